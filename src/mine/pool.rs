//! The miner's pool thread: handshake, jobs, shares, failover (see [`super`]).

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::{
    FoundShare, MineEvent, MinerConfig, PoolConfig, ShareStatus, Shared, VERSION_ROLLING_MASK, Work,
};
use crate::pow::Target;
use crate::stratum::client::{Connection, PoolUrl};
use crate::stratum::{Message, Notify, Submit, Subscription, check_difficulty, share_difficulty};

/// How long one `recv` waits before the thread looks at its share queue.
const POLL: Duration = Duration::from_millis(20);
/// The longest a stopping miner waits for the answers to its last shares.
const STOP_GRACE: Duration = Duration::from_secs(2);

/// A share sent and not yet answered.
struct Pending {
    engine: usize,
    job_id: String,
    nonce: u32,
    hash: String,
    share_difficulty: f64,
    pool_difficulty: f64,
}

/// One subscribed, authorized connection.
struct Session {
    conn: Connection,
    index: usize,
    url: PoolUrl,
    id: u64,
    sub: Subscription,
    mask: u32,
    difficulty: f64,
    pending: HashMap<u64, Pending>,
    last_rx: Instant,
    clean_generation: u64,
    jobs: u64,
}

/// Why a session ended.
enum End {
    Stop,
    Lost(String),
    Reconnect(PoolUrl, Duration),
    Failback(Box<Session>, Vec<Message>),
}

/// Sleeps `d` in small steps; false when the miner stops meanwhile.
pub(crate) fn sleep(shared: &Shared, d: Duration) -> bool {
    let until = Instant::now() + d;
    while Instant::now() < until {
        if shared.pool_stopping() {
            return false;
        }
        std::thread::sleep(POLL.min(until - Instant::now()));
    }
    !shared.pool_stopping()
}

/// The pool thread's main loop.
pub(crate) fn run(
    shared: &Shared,
    config: &MinerConfig,
    pools: &[PoolConfig],
    urls: &[PoolUrl],
    shares: &Receiver<FoundShare>,
) {
    let n = urls.len();
    let mut idx = 0usize;
    let mut failed_in_round = 0usize;
    let mut rounds = 0u32;
    let mut session_id = 0u64;
    let mut generation = 0u64;
    let mut redirect: Option<PoolUrl> = None;
    let mut adopted: Option<(Box<Session>, Vec<Message>)> = None;
    while !shared.pool_stopping() {
        let (session, backlog) = if let Some((s, b)) = adopted.take() {
            (s, b)
        } else {
            let url = redirect.take().unwrap_or_else(|| urls[idx].clone());
            session_id += 1;
            match open(shared, config, &pools[idx], &url, idx, session_id) {
                Ok((s, b)) => (Box::new(s), b),
                Err(reason) => {
                    shared.emit(MineEvent::Disconnected {
                        pool: idx,
                        url: url.to_string(),
                        reason,
                    });
                    idx = (idx + 1) % n;
                    failed_in_round += 1;
                    if failed_in_round >= n {
                        failed_in_round = 0;
                        if !sleep(shared, config.backoff.delay(rounds)) {
                            break;
                        }
                        rounds = rounds.saturating_add(1);
                    }
                    continue;
                }
            }
        };
        failed_in_round = 0;
        rounds = 0;
        idx = session.index;
        {
            let mut c = shared.counters();
            c.connections += 1;
            c.pool = Some(session.url.to_string());
        }
        shared.emit(MineEvent::Connected {
            pool: session.index,
            url: session.url.to_string(),
            extranonce1: hex::encode(&session.sub.extranonce1),
            extranonce2_size: session.sub.extranonce2_size,
            version_mask: (session.mask != 0).then(|| format!("{:08x}", session.mask)),
        });
        let mut session = session;
        let end = serve(
            shared,
            config,
            pools,
            urls,
            &mut session,
            backlog,
            shares,
            &mut generation,
            &mut session_id,
        );
        // Whatever ended the session: its work is void and its unanswered shares lost.
        shared.publish(None);
        let lost = session.pending.len() as u64;
        {
            let mut c = shared.counters();
            c.pool = None;
            c.shares.pending = c.shares.pending.saturating_sub(lost);
            if lost > 0 {
                *c.shares
                    .rejected
                    .entry("unanswered when the connection ended".to_string())
                    .or_default() += lost;
            }
        }
        let (reason, next) = match end {
            End::Stop => ("miner stopped".to_string(), None),
            End::Lost(reason) => {
                idx = (idx + 1) % n;
                (reason, None)
            }
            End::Reconnect(url, wait) => {
                let r = format!("pool asked to reconnect to {url} in {} s", wait.as_secs());
                redirect = Some(url);
                (r, Some(wait))
            }
            End::Failback(s, b) => {
                let r = format!("returning to pool {} ({})", s.index, s.url);
                adopted = Some((s, b));
                (r, None)
            }
        };
        shared.emit(MineEvent::Disconnected {
            pool: session.index,
            url: session.url.to_string(),
            reason,
        });
        session.conn.close();
        if let Some(wait) = next
            && !sleep(shared, wait)
        {
            break;
        }
    }
    if let Some((s, _)) = adopted {
        s.conn.close();
    }
}

/// Connects, negotiates version rolling, subscribes and authorizes.
/// Notifications that arrive before the answers are returned to be handled next.
fn open(
    shared: &Shared,
    config: &MinerConfig,
    pool: &PoolConfig,
    url: &PoolUrl,
    index: usize,
    id: u64,
) -> Result<(Session, Vec<Message>), String> {
    let mut conn = Connection::connect(url, &config.tls, config.timeouts.connect)
        .map_err(|e| format!("connect: {e}"))?;
    let io = |e: crate::stratum::client::ClientError| e.to_string();
    let configure = if config.version_rolling {
        Some(
            conn.request(
                "mining.configure",
                json!([["version-rolling"], {
                    "version-rolling.mask": format!("{VERSION_ROLLING_MASK:08x}"),
                    "version-rolling.min-bit-count": 2
                }]),
            )
            .map_err(io)?,
        )
    } else {
        None
    };
    let sub_id = conn
        .request(
            "mining.subscribe",
            json!([concat!("hashwatt/", env!("CARGO_PKG_VERSION"))]),
        )
        .map_err(io)?;
    let auth_id = conn
        .request("mining.authorize", json!([pool.user, pool.password]))
        .map_err(io)?;
    let deadline = Instant::now() + config.timeouts.response;
    let mut mask = None;
    let mut sub = None;
    let mut authorized = None;
    let mut backlog = Vec::new();
    while sub.is_none() || authorized.is_none() || (configure.is_some() && mask.is_none()) {
        if shared.pool_stopping() {
            return Err("miner stopped".into());
        }
        if Instant::now() >= deadline {
            return Err(format!(
                "no answer to {} within {} s",
                if sub.is_none() {
                    "mining.subscribe"
                } else if authorized.is_none() {
                    "mining.authorize"
                } else {
                    "mining.configure"
                },
                config.timeouts.response.as_secs_f64()
            ));
        }
        let Some(msg) = conn.recv(POLL).map_err(io)? else {
            continue;
        };
        match msg {
            Message::Response { id, result, error } => {
                let id = id.as_u64();
                if id.is_some() && id == configure {
                    // A pool without BIP 310 answers with an error: no rolling.
                    mask = Some(granted_mask(&result));
                } else if id == Some(sub_id) {
                    if !error.is_null() {
                        return Err(format!("mining.subscribe refused: {}", error_text(&error)));
                    }
                    sub = Some(
                        Subscription::from_result(&result)
                            .map_err(|e| format!("bad subscribe result: {e}"))?,
                    );
                } else if id == Some(auth_id) {
                    if result != Value::Bool(true) {
                        return Err(format!(
                            "worker {:?} not authorized: {}",
                            pool.user,
                            if error.is_null() {
                                "result is not true".to_string()
                            } else {
                                error_text(&error)
                            }
                        ));
                    }
                    authorized = Some(true);
                }
            }
            m @ Message::Request { .. } => backlog.push(m),
        }
    }
    let (Some(sub), Some(_)) = (sub, authorized) else {
        return Err("handshake incomplete".into());
    };
    // Best effort: pools that support it send mining.set_extranonce later.
    let _ = conn.request("mining.extranonce.subscribe", json!([]));
    Ok((
        Session {
            conn,
            index,
            url: url.clone(),
            id,
            sub,
            mask: mask.unwrap_or(0),
            difficulty: 1.0,
            pending: HashMap::new(),
            last_rx: Instant::now(),
            clean_generation: 0,
            jobs: 0,
        },
        backlog,
    ))
}

/// The mask a `mining.configure` result grants (0 when none), limited to what we asked.
fn granted_mask(result: &Value) -> u32 {
    if result.get("version-rolling") != Some(&Value::Bool(true)) {
        return 0;
    }
    result
        .get("version-rolling.mask")
        .and_then(Value::as_str)
        .and_then(|s| crate::stratum::parse_u32_be("mask", s).ok())
        .map_or(0, |m| m & VERSION_ROLLING_MASK)
}

/// A JSON-RPC error as text: `[code, "message", data]` → `"message (code)"`.
pub(crate) fn error_text(error: &Value) -> String {
    match error {
        Value::Array(a) if a.len() >= 2 => {
            let msg = a[1]
                .as_str()
                .map_or_else(|| a[1].to_string(), str::to_string);
            format!("{msg} ({})", a[0])
        }
        Value::String(s) => s.clone(),
        Value::Object(o) => o
            .get("message")
            .and_then(Value::as_str)
            .map_or_else(|| error.to_string(), str::to_string),
        other => other.to_string(),
    }
}

/// Whether a rejection says the job is gone (stale).
fn is_stale(error: &Value) -> bool {
    let code = match error {
        Value::Array(a) => a.first().and_then(Value::as_i64),
        Value::Object(o) => o.get("code").and_then(Value::as_i64),
        _ => None,
    };
    let text = error_text(error).to_lowercase();
    code == Some(21) || text.contains("stale") || text.contains("job not found")
}

#[allow(clippy::too_many_arguments)]
fn serve(
    shared: &Shared,
    config: &MinerConfig,
    pools: &[PoolConfig],
    urls: &[PoolUrl],
    s: &mut Session,
    backlog: Vec<Message>,
    shares: &Receiver<FoundShare>,
    generation: &mut u64,
    session_id: &mut u64,
) -> End {
    for msg in backlog {
        if let Err(end) = handle(shared, s, msg, generation) {
            return end;
        }
    }
    let mut failback_at = Instant::now() + config.failback_interval;
    loop {
        if shared.pool_stopping() {
            // Send the engines' last shares and wait briefly for the verdicts.
            while let Ok(share) = shares.try_recv() {
                if submit(shared, s, &pools[s.index], share).is_err() {
                    return End::Stop;
                }
            }
            let until = Instant::now() + config.timeouts.response.min(STOP_GRACE);
            while !s.pending.is_empty() && Instant::now() < until {
                match s.conn.recv(POLL) {
                    Ok(Some(msg @ Message::Response { .. })) => {
                        if let Err(end) = handle(shared, s, msg, generation) {
                            return end;
                        }
                    }
                    Ok(_) => {}
                    Err(_) => break,
                }
            }
            return End::Stop;
        }
        match s.conn.recv(POLL) {
            Ok(Some(msg)) => {
                s.last_rx = Instant::now();
                if let Err(end) = handle(shared, s, msg, generation) {
                    return end;
                }
            }
            Ok(None) => {
                if s.last_rx.elapsed() > config.timeouts.idle {
                    return End::Lost(format!(
                        "pool silent for {:.1} s",
                        s.last_rx.elapsed().as_secs_f64()
                    ));
                }
            }
            Err(e) => return End::Lost(e.to_string()),
        }
        while let Ok(share) = shares.try_recv() {
            if let Err(e) = submit(shared, s, &pools[s.index], share) {
                return End::Lost(format!("sending a share: {e}"));
            }
        }
        if s.index > 0 && Instant::now() >= failback_at {
            failback_at = Instant::now() + config.failback_interval;
            for j in 0..s.index {
                *session_id += 1;
                if let Ok((better, b)) = open(shared, config, &pools[j], &urls[j], j, *session_id) {
                    return End::Failback(Box::new(better), b);
                }
            }
        }
    }
}

/// Handles one message from the pool; `Err` ends the session.
fn handle(shared: &Shared, s: &mut Session, msg: Message, generation: &mut u64) -> Result<(), End> {
    let bad =
        |what: &str, e: &dyn std::fmt::Display| End::Lost(format!("bad {what} from the pool: {e}"));
    match msg {
        Message::Response { id, result, error } => {
            let Some(p) = id.as_u64().and_then(|id| s.pending.remove(&id)) else {
                return Ok(());
            };
            let accepted = result == Value::Bool(true) && error.is_null();
            let (status, reason) = if accepted {
                (ShareStatus::Accepted, None)
            } else if is_stale(&error) {
                (ShareStatus::Stale, Some(error_text(&error)))
            } else if error.is_null() {
                (ShareStatus::Rejected, Some(format!("result {result}")))
            } else {
                (ShareStatus::Rejected, Some(error_text(&error)))
            };
            {
                let mut c = shared.counters();
                c.shares.pending = c.shares.pending.saturating_sub(1);
                match status {
                    ShareStatus::Accepted => {
                        c.shares.accepted += 1;
                        c.shares.accepted_difficulty += p.pool_difficulty;
                    }
                    ShareStatus::Stale => c.shares.stale += 1,
                    ShareStatus::Rejected => {
                        *c.shares
                            .rejected
                            .entry(reason.clone().unwrap_or_default())
                            .or_default() += 1;
                    }
                }
            }
            shared.emit(MineEvent::Share {
                engine: p.engine,
                job_id: p.job_id,
                nonce: format!("{:08x}", p.nonce),
                hash: p.hash,
                share_difficulty: p.share_difficulty,
                pool_difficulty: p.pool_difficulty,
                status,
                reason,
            });
            Ok(())
        }
        Message::Request { id, method, params } => match method.as_str() {
            "mining.notify" => {
                let job = Notify::from_params(&params).map_err(|e| bad("mining.notify", &e))?;
                *generation += 1;
                let clean = job.clean_jobs || s.jobs == 0;
                s.jobs += 1;
                if clean {
                    s.clean_generation = *generation;
                }
                let share_target =
                    Target::from_difficulty(s.difficulty).map_err(|e| bad("difficulty", &e))?;
                let block_target = Target::from_compact(job.bits).ok();
                let search_target = block_target.map_or(share_target, |b| b.max(share_target));
                let first_units = (0..shared.engine_count())
                    .map(|i| Work::unit(&job, &s.sub, s.mask, i as u64))
                    .collect();
                let network_difficulty = block_target.map_or(0.0, |t| t.difficulty());
                let job_id = job.job_id.clone();
                let work = Work {
                    generation: *generation,
                    session: s.id,
                    clean_generation: s.clean_generation,
                    job,
                    sub: s.sub.clone(),
                    mask: s.mask,
                    difficulty: s.difficulty,
                    search_target,
                    share_target,
                    block_target,
                    first_units,
                };
                shared.counters().pool_difficulty = Some(s.difficulty);
                shared.publish(Some(Arc::new(work)));
                shared.emit(MineEvent::Job {
                    pool: s.index,
                    job_id,
                    clean,
                    difficulty: s.difficulty,
                    network_difficulty,
                });
                Ok(())
            }
            "mining.set_difficulty" => {
                let d = params
                    .first()
                    .and_then(Value::as_f64)
                    .ok_or_else(|| bad("mining.set_difficulty", &"parameter is not a number"))?;
                s.difficulty = check_difficulty(d).map_err(|e| bad("mining.set_difficulty", &e))?;
                shared.emit(MineEvent::Difficulty {
                    pool: s.index,
                    difficulty: s.difficulty,
                });
                Ok(())
            }
            "mining.set_extranonce" => {
                let (Some(en1), Some(size)) = (params.first(), params.get(1)) else {
                    return Err(bad("mining.set_extranonce", &"expected 2 parameters"));
                };
                s.sub = Subscription::from_fields(en1, size)
                    .map_err(|e| bad("mining.set_extranonce", &e))?;
                Ok(())
            }
            "mining.set_version_mask" => {
                let m = params
                    .first()
                    .and_then(Value::as_str)
                    .ok_or_else(|| bad("mining.set_version_mask", &"parameter is not a string"))?;
                let m = crate::stratum::parse_u32_be("mask", m)
                    .map_err(|e| bad("mining.set_version_mask", &e))?;
                if s.mask != 0 {
                    s.mask = m & VERSION_ROLLING_MASK;
                }
                Ok(())
            }
            "client.reconnect" => {
                let host = params
                    .first()
                    .and_then(Value::as_str)
                    .filter(|h| !h.is_empty())
                    .map_or_else(|| s.url.host.clone(), str::to_string);
                let port = match params.get(1) {
                    Some(Value::Number(n)) => n.as_u64(),
                    Some(Value::String(p)) => p.parse().ok(),
                    _ => Some(u64::from(s.url.port)),
                }
                .and_then(|p| u16::try_from(p).ok())
                .filter(|&p| p != 0)
                .ok_or_else(|| bad("client.reconnect", &"port is not in 1..=65535"))?;
                let wait = params.get(2).and_then(Value::as_u64).unwrap_or(0).min(600);
                let url = PoolUrl {
                    scheme: s.url.scheme,
                    host,
                    port,
                };
                Err(End::Reconnect(url, Duration::from_secs(wait)))
            }
            "client.show_message" => {
                let text = params.first().map_or_else(String::new, |v| {
                    v.as_str().map_or_else(|| v.to_string(), str::to_string)
                });
                shared.emit(MineEvent::Message {
                    pool: s.index,
                    text,
                });
                Ok(())
            }
            "client.get_version" => {
                let line = json!({"id": id, "result": concat!("hashwatt/", env!("CARGO_PKG_VERSION")), "error": null});
                s.conn
                    .send_line(&line.to_string())
                    .map_err(|e| End::Lost(e.to_string()))
            }
            "mining.ping" => {
                let line = json!({"id": id, "result": "pong", "error": null});
                s.conn
                    .send_line(&line.to_string())
                    .map_err(|e| End::Lost(e.to_string()))
            }
            other => Err(End::Lost(format!(
                "the pool sent an unknown method {:?}",
                other.chars().take(64).collect::<String>()
            ))),
        },
    }
}

/// Sends one share, or counts it stale when its job is void.
fn submit(
    shared: &Shared,
    s: &mut Session,
    pool: &PoolConfig,
    share: FoundShare,
) -> Result<(), crate::stratum::client::ClientError> {
    let work = &share.work;
    let hash = share.hash.to_string();
    let share_diff = share_difficulty(share.hash);
    if work.block_target.is_some_and(|t| t.is_met_by(share.hash)) {
        shared.counters().shares.blocks += 1;
        shared.emit(MineEvent::Block { hash: hash.clone() });
    }
    let stale = if work.session != s.id {
        Some("found on an earlier connection's job")
    } else if s.clean_generation > work.generation {
        Some("job voided by clean_jobs before it was sent")
    } else {
        None
    };
    if let Some(reason) = stale {
        shared.counters().shares.stale += 1;
        shared.emit(MineEvent::Share {
            engine: share.engine,
            job_id: work.job.job_id.clone(),
            nonce: format!("{:08x}", share.nonce),
            hash,
            share_difficulty: share_diff,
            pool_difficulty: work.difficulty,
            status: ShareStatus::Stale,
            reason: Some(reason.to_string()),
        });
        return Ok(());
    }
    let submit = Submit {
        worker: pool.user.clone(),
        job_id: work.job.job_id.clone(),
        extranonce2: share.extranonce2.clone(),
        time: work.job.time,
        nonce: share.nonce,
        version_bits: share.version_bits,
    };
    let id = s.conn.request("mining.submit", submit.to_params())?;
    shared.counters().shares.pending += 1;
    s.pending.insert(
        id,
        Pending {
            engine: share.engine,
            job_id: work.job.job_id.clone(),
            nonce: share.nonce,
            hash,
            share_difficulty: share_diff,
            pool_difficulty: work.difficulty,
        },
    );
    Ok(())
}
