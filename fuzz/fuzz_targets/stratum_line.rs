//! Pool lines as the Stratum client reads them: framing (`take_message`,
//! oversized lines, bad UTF-8), then every method's parameters the way the pool
//! thread reads them (notify, set_difficulty, set_extranonce, set_version_mask,
//! client.reconnect, submit, subscribe result). Parsed jobs and submits
//! must serialize back to themselves.
#![no_main]

use hashwatt::pow::Target;
use hashwatt::stratum::client::take_message;
use hashwatt::stratum::{Message, Notify, Submit, Subscription, check_difficulty, parse_u32_be};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fn method(method: &str, params: &[Value]) {
    match method {
        "mining.notify" => {
            if let Ok(job) = Notify::from_params(params) {
                let again = Notify::from_params(job.to_params().as_array().unwrap());
                assert_eq!(again.as_ref(), Ok(&job));
                let _ = Target::from_compact(job.bits);
            }
        }
        "mining.set_difficulty" => {
            if let Some(d) = params.first().and_then(Value::as_f64)
                && let Ok(d) = check_difficulty(d)
            {
                let target = Target::from_difficulty(d).expect("checked difficulty");
                assert!(target.difficulty() > 0.0);
            }
        }
        "mining.set_extranonce" => {
            if let (Some(en1), Some(size)) = (params.first(), params.get(1)) {
                let _ = Subscription::from_fields(en1, size);
            }
        }
        "mining.set_version_mask" => {
            if let Some(m) = params.first().and_then(Value::as_str) {
                let _ = parse_u32_be("mask", m);
            }
        }
        "client.reconnect" => {
            let _ = match params.get(1) {
                Some(Value::Number(n)) => n.as_u64(),
                Some(Value::String(p)) => p.parse().ok(),
                _ => None,
            }
            .and_then(|p| u16::try_from(p).ok());
        }
        "mining.submit" => {
            if let Ok(submit) = Submit::from_params(params) {
                let again = Submit::from_params(submit.to_params().as_array().unwrap());
                assert_eq!(again.as_ref(), Ok(&submit));
            }
        }
        _ => {}
    }
}

fuzz_target!(|data: &[u8]| {
    let mut buf = data.to_vec();
    for _ in 0..64 {
        match take_message(&mut buf) {
            Ok(Some(Message::Request {
                method: m, params, ..
            })) => method(&m, &params),
            Ok(Some(Message::Response { result, error, .. })) => {
                let _ = Subscription::from_result(&result);
                let _ = error.to_string();
            }
            Ok(None) | Err(_) => break,
        }
    }
    // The last line need not end in a newline: parse it whole too.
    if let Ok(text) = std::str::from_utf8(data)
        && let Ok(Message::Request {
            method: m, params, ..
        }) = Message::parse(text)
    {
        method(&m, &params);
    }
});
