//! `getblocktemplate` results: parsed (bare, JSON-RPC response or `{"gbt":…}`),
//! checked against their transactions, summarized, and a coinbase built.
#![no_main]

use hashwatt::gbt::{BlockTemplate, coinbase};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(template) = BlockTemplate::from_json(text) else {
        return;
    };
    if let Ok(job) = template.check() {
        let _ = job.summary().to_string();
        assert_eq!(job.txids.len(), job.txs.len());
        let commitment =
            (!job.witness_commitment.is_empty()).then_some(&job.witness_commitment[..]);
        let parts = coinbase::build(
            job.template.height,
            job.template.coinbasevalue,
            &[0x51],
            commitment,
        );
        let _ = coinbase::with_witness(&[parts.coinb1, parts.coinb2].concat(), true);
    }
});
