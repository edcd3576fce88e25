//! The agent's HTTP endpoint (tiny_http): `/metrics`, `/status`, `/pause`,
//! `/resume`, `/healthz`, `/readyz`.

use std::sync::atomic::Ordering;
use std::time::Duration;

use serde_json::{Value, json};
use tiny_http::{Header, Method, Request, Response, Server};

use super::Control;

const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Serves requests until the agent stops.
pub(super) fn serve(server: &Server, control: &Control) {
    while !control.shared.stopping.load(Ordering::SeqCst) {
        match server.recv_timeout(Duration::from_millis(200)) {
            Ok(Some(req)) => handle(req, control),
            Ok(None) => {}
            Err(e) => {
                eprintln!("hashwatt agent: HTTP: {e}");
                std::thread::sleep(Duration::from_millis(200));
            }
        }
    }
}

fn header(name: &str, value: &str) -> Option<Header> {
    Header::from_bytes(name.as_bytes(), value.as_bytes()).ok()
}

fn reply(req: Request, code: u16, content_type: &str, body: String) {
    let mut resp = Response::from_string(body).with_status_code(code);
    if let Some(h) = header("Content-Type", content_type) {
        resp = resp.with_header(h);
    }
    // A client that hung up is not the agent's problem.
    let _ = req.respond(resp);
}

fn reply_json(req: Request, code: u16, body: &Value) {
    reply(req, code, "application/json", format!("{body}\n"));
}

/// Compares without an early exit, so the time taken says nothing about how
/// much of the token matched.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn authorized(req: &Request, token: Option<&str>) -> bool {
    let Some(token) = token else { return true };
    req.headers().iter().any(|h| {
        h.field.equiv("Authorization")
            && h.value
                .as_str()
                .strip_prefix("Bearer ")
                .is_some_and(|given| same(given.trim().as_bytes(), token.as_bytes()))
    })
}

/// `?device=gpu:0` (percent-decoding `%3A`).
fn device_param(url: &str) -> Result<Option<String>, String> {
    let Some((_, query)) = url.split_once('?') else {
        return Ok(None);
    };
    let mut device = None;
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        match pair.split_once('=') {
            Some(("device", v)) => device = Some(v.replace("%3A", ":").replace("%3a", ":")),
            _ => {
                return Err(format!(
                    "unknown query parameter {pair:?} (only device=NAME)"
                ));
            }
        }
    }
    Ok(device)
}

fn handle(req: Request, control: &Control) {
    let url = req.url().to_string();
    let path = url.split('?').next().unwrap_or("").to_string();
    let method = req.method().clone();
    let token = control.shared.config.token.as_deref();
    match (method, path.as_str()) {
        (Method::Get, "/metrics") => match control.metrics() {
            Ok(text) => reply(req, 200, OPENMETRICS, text),
            Err(e) => reply(req, 500, "text/plain", format!("{e}\n")),
        },
        (Method::Get, "/healthz") => reply(req, 200, "text/plain", "ok\n".into()),
        (Method::Get, "/readyz") => {
            if control.ready() {
                reply(req, 200, "text/plain", "ready\n".into());
            } else {
                reply(req, 503, "text/plain", "engines not open yet\n".into());
            }
        }
        (Method::Get, "/status") | (Method::Post, "/pause") | (Method::Post, "/resume")
            if !authorized(&req, token) =>
        {
            reply_json(req, 401, &json!({"error": "missing or wrong bearer token"}));
        }
        (Method::Get, "/status") => {
            let status = control.status();
            reply_json(req, 200, &status);
        }
        (Method::Post, "/pause") => {
            let device = match device_param(&url) {
                Ok(d) => d,
                Err(e) => return reply_json(req, 400, &json!({"error": e})),
            };
            match control.pause(device.as_deref()) {
                Ok(done) => {
                    let devices: Vec<Value> = done
                        .iter()
                        .map(|(d, y)| json!({"device": d, "yield_ms": y.map(|y| y.as_secs_f64() * 1e3)}))
                        .collect();
                    reply_json(req, 200, &json!({"paused": devices}));
                }
                Err(e) => reply_json(req, 404, &json!({"error": e.to_string()})),
            }
        }
        (Method::Post, "/resume") => {
            let device = match device_param(&url) {
                Ok(d) => d,
                Err(e) => return reply_json(req, 400, &json!({"error": e})),
            };
            match control.resume(device.as_deref()) {
                Ok(done) => reply_json(req, 200, &json!({"resumed": done})),
                Err(e) => reply_json(req, 404, &json!({"error": e.to_string()})),
            }
        }
        (_, "/metrics" | "/healthz" | "/readyz" | "/status" | "/pause" | "/resume") => {
            reply_json(
                req,
                405,
                &json!({"error": format!("method not allowed on {path}")}),
            );
        }
        _ => reply_json(
            req,
            404,
            &json!({"error": format!("no such endpoint {path}")}),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_device_parameter_is_decoded_and_others_are_refused() {
        assert_eq!(device_param("/pause"), Ok(None));
        assert_eq!(
            device_param("/pause?device=gpu%3A0"),
            Ok(Some("gpu:0".into()))
        );
        assert!(device_param("/pause?dev=cpu").is_err());
    }

    #[test]
    fn tokens_compare_whole() {
        assert!(same(b"abc", b"abc"));
        assert!(!same(b"abc", b"abd"));
        assert!(!same(b"abc", b"abcd"));
    }
}
