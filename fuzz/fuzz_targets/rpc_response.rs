//! Bitcoin Core JSON-RPC response bodies: the result, or the node's error;
//! a `getblocktemplate` result read on as a template.
#![no_main]

use hashwatt::gbt::BlockTemplate;
use hashwatt::gbt::rpc::parse_response;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(result) = parse_response("getblocktemplate", text) {
        let _ = BlockTemplate::from_json(&result.to_string());
        let _ = result.get("chain").and_then(serde_json::Value::as_str);
    }
});
