//! A condition string through the condition parser.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok((condition, _)) = vigil_compiler::syntax::parse_condition(text) {
            let _ = condition.to_string();
        }
    }
});
