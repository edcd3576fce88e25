//! Every real header in `tests/data/headers.tsv`: its hash, its target, and a search that finds its nonce.

mod common;

use hashwatt::pow::Target;
use hashwatt::search::{CancelToken, CpuEngine, Engine, Job};
use hashwatt::sha256::CpuKernel;

#[test]
fn block_hash_matches_published_hash_and_oracle() {
    for row in common::headers() {
        let hash = row.header.block_hash();
        assert_eq!(hash, row.hash, "height {} ({})", row.height, row.network);
        assert_eq!(
            hash,
            common::oracle_hash(&row.header),
            "height {}",
            row.height
        );
        let target = Target::from_compact(row.header.bits).unwrap();
        assert!(
            target.is_met_by(hash),
            "height {} does not meet its nBits",
            row.height
        );
        // Round trip of the wire form.
        assert_eq!(
            row.header
                .to_string()
                .parse::<hashwatt::header::Header>()
                .unwrap(),
            row.header
        );
    }
}

#[test]
fn search_finds_every_real_nonce() {
    let engine = CpuEngine::new(CpuKernel::scalar(), None).unwrap();
    for (i, row) in common::headers().into_iter().enumerate() {
        let real = row.header.nonce;
        // A different offset of the real nonce inside the window for each row.
        let offset = (i as u32 * 2621 + 17) % 65_536;
        let start = real.saturating_sub(offset).min(u32::MAX - 65_535);
        let header = row.header.with_nonce(0);
        let target = Target::from_compact(header.bits).unwrap();
        let job = Job::new(header, start, 65_536, target).unwrap();
        let outcome = engine.search(&job, &CancelToken::new()).unwrap();

        assert_eq!(outcome.stats.hashes, 65_536);
        assert!(!outcome.stats.cancelled);
        let found = outcome.hits.iter().find(|h| h.nonce == real);
        assert_eq!(
            found.map(|h| h.hash),
            Some(row.hash),
            "height {} nonce {real} not found",
            row.height
        );
        assert!(
            outcome.hits.windows(2).all(|w| w[0].nonce < w[1].nonce),
            "hits sorted and unique"
        );
        for hit in &outcome.hits {
            assert!((start..=start + 65_535).contains(&hit.nonce));
            let oracle = common::oracle_hash(&header.with_nonce(hit.nonce));
            assert_eq!(hit.hash, oracle);
            assert!(target.is_met_by(oracle));
        }
        if row.network == "regtest" {
            // nBits 207fffff: about half of all hashes meet it.
            assert!(
                outcome.hits.len() > 30_000,
                "regtest gave only {} hits",
                outcome.hits.len()
            );
        }
    }
}
