//! Arbitrary UTF-8 as a rule's `when`, `require`, `escalate` condition and message template,
//! through the rule loader, and evaluated on `examples/robot-vacuum` under the fuel limit when it
//! compiles (see `flowaudit::fuzzing::fuzz_expression`). Input that is not UTF-8 is skipped.

#![no_main]

use libfuzzer_sys::{Corpus, fuzz_target};

fuzz_target!(|data: &[u8]| -> Corpus {
    match std::str::from_utf8(data) {
        Ok(text) => {
            flowaudit::fuzzing::fuzz_expression(text);
            Corpus::Keep
        }
        Err(_) => Corpus::Reject,
    }
});
