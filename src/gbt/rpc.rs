//! JSON-RPC to Bitcoin Core (`getblocktemplate`, `submitblock`) over HTTP
//! with user/password or the cookie file.

use std::path::PathBuf;
use std::time::Duration;

use serde_json::{Value, json};

use super::BlockTemplate;

/// How to authenticate to the node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NodeAuth {
    /// `rpcuser` / `rpcpassword`.
    UserPass {
        /// User.
        user: String,
        /// Password.
        password: String,
    },
    /// The `.cookie` file Bitcoin Core writes in its data directory
    /// (`__cookie__:<random>`), read at every connection.
    Cookie(PathBuf),
}

/// Errors talking to the node.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RpcError {
    /// The URL is not `http://HOST:PORT[/PATH]`.
    #[error("invalid node URL {0:?}: expected http://HOST:PORT")]
    Url(String),
    /// The cookie file cannot be read or has no `user:password`.
    #[error("cookie file {path}: {reason}")]
    Cookie {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// A transport error.
    #[error("{0}")]
    Http(String),
    /// The node refused the credentials.
    #[error("the node refused the credentials (HTTP 401)")]
    Unauthorized,
    /// An RPC error.
    #[error("{method}: {message}")]
    Rpc {
        /// The method.
        method: String,
        /// The node's error message.
        message: String,
    },
    /// A template that does not parse.
    #[error(transparent)]
    Template(#[from] super::TemplateError),
}

/// Reads a JSON-RPC response body: its `result`, or the node's `error` as [`RpcError::Rpc`].
///
/// # Errors
/// [`RpcError::Http`] when the body is not JSON, [`RpcError::Rpc`] when `error` is set.
pub fn parse_response(method: &str, body: &str) -> Result<Value, RpcError> {
    let v: Value = serde_json::from_str(body).map_err(|e| RpcError::Http(e.to_string()))?;
    if !v["error"].is_null() {
        let message = v["error"]["message"]
            .as_str()
            .map_or_else(|| v["error"].to_string(), str::to_string);
        return Err(RpcError::Rpc {
            method: method.to_string(),
            message,
        });
    }
    Ok(v["result"].clone())
}

/// A blocking JSON-RPC client.
#[derive(Debug, Clone)]
pub struct NodeClient {
    url: String,
    auth: NodeAuth,
    agent: ureq::Agent,
}

/// Basic-auth header value.
fn basic(user_pass: &str) -> String {
    use base64::Engine as _;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(user_pass)
    )
}

impl NodeClient {
    /// A client for `url` (`http://HOST:PORT`), each call limited to `timeout`.
    ///
    /// # Errors
    /// [`RpcError::Url`].
    pub fn new(url: &str, auth: NodeAuth, timeout: Duration) -> Result<NodeClient, RpcError> {
        let rest = url
            .strip_prefix("http://")
            .ok_or_else(|| RpcError::Url(url.to_string()))?;
        if rest.is_empty() || rest.starts_with('/') {
            return Err(RpcError::Url(url.to_string()));
        }
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(timeout))
            .http_status_as_error(false)
            .build()
            .into();
        Ok(NodeClient {
            url: url.to_string(),
            auth,
            agent,
        })
    }

    /// The node's URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    fn authorization(&self) -> Result<String, RpcError> {
        match &self.auth {
            NodeAuth::UserPass { user, password } => Ok(basic(&format!("{user}:{password}"))),
            NodeAuth::Cookie(path) => {
                let err = |reason: String| RpcError::Cookie {
                    path: path.display().to_string(),
                    reason,
                };
                let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
                let text = text.trim();
                if !text.contains(':') {
                    return Err(err("expected user:password".into()));
                }
                Ok(basic(text))
            }
        }
    }

    /// Calls `method` and returns its result.
    ///
    /// # Errors
    /// [`RpcError`].
    pub fn call(&self, method: &str, params: Value) -> Result<Value, RpcError> {
        let body = json!({"jsonrpc": "1.0", "id": "hashwatt", "method": method, "params": params});
        let mut resp = self
            .agent
            .post(&self.url)
            .header("Authorization", &self.authorization()?)
            .send_json(&body)
            .map_err(|e| RpcError::Http(e.to_string()))?;
        if resp.status().as_u16() == 401 {
            return Err(RpcError::Unauthorized);
        }
        let status = resp.status();
        let body = resp
            .body_mut()
            .read_to_string()
            .map_err(|e| RpcError::Http(format!("HTTP {status}: {e}")))?;
        parse_response(method, &body).map_err(|e| match e {
            RpcError::Http(e) => RpcError::Http(format!("HTTP {status}: {e}")),
            e => e,
        })
    }

    /// `getblocktemplate` with the segwit rule; with `longpollid`, waits for a new one.
    ///
    /// # Errors
    /// [`RpcError`].
    pub fn get_block_template(&self, longpollid: Option<&str>) -> Result<BlockTemplate, RpcError> {
        let mut req = json!({"rules": ["segwit"]});
        if let Some(id) = longpollid {
            req["longpollid"] = id.into();
        }
        let result = self.call("getblocktemplate", json!([req]))?;
        Ok(BlockTemplate::from_json(&result.to_string())?)
    }

    /// The node's chain from `getblockchaininfo` (`main`, `test`, `testnet4`,
    /// `signet`, `regtest`), `None` when the node does not say.
    ///
    /// # Errors
    /// [`RpcError`].
    pub fn chain(&self) -> Result<Option<String>, RpcError> {
        let info = self.call("getblockchaininfo", json!([]))?;
        Ok(info
            .get("chain")
            .and_then(Value::as_str)
            .map(str::to_string))
    }

    /// `submitblock`: `Ok(None)` when accepted, `Ok(Some(reason))` when the node rejected it.
    ///
    /// # Errors
    /// [`RpcError`] for transport or RPC errors.
    pub fn submit_block(&self, block: &[u8]) -> Result<Option<String>, RpcError> {
        let result = self.call("submitblock", json!([hex::encode(block)]))?;
        Ok(match result {
            Value::Null => None,
            Value::String(s) => Some(s),
            other => Some(other.to_string()),
        })
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn basic_auth_is_base64() {
        // RFC 7617's example.
        assert_eq!(
            super::basic("Aladdin:open sesame"),
            "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="
        );
        assert_eq!(super::basic("a:b"), "Basic YTpi");
    }
}
