//! A bounded memo of a pure function of a text, for the write path: a burst of citizen messages
//! rewrites the rows of the few hundred requests they join, and each rewrite scored the same
//! text for triage and parsed the same address again (together a tenth of intake's store thread
//! in a profile, 2026-12-07). Cleared whole when full: the burst's working set refills it, and
//! no eviction order is worth its bookkeeping here.

use rustc_hash::FxHashMap;

pub(crate) struct Memo<V> {
    map: FxHashMap<String, V>,
    cap: usize,
}

impl<V: Clone> Memo<V> {
    pub(crate) fn new(cap: usize) -> Self {
        Memo {
            map: FxHashMap::default(),
            cap,
        }
    }

    /// `f(text)`, from the memo when this text was asked before.
    pub(crate) fn get(&mut self, text: &str, f: impl FnOnce(&str) -> V) -> V {
        if let Some(v) = self.map.get(text) {
            return v.clone();
        }
        let v = f(text);
        if self.map.len() >= self.cap {
            self.map.clear();
        }
        self.map.insert(text.to_owned(), v.clone());
        v
    }

    pub(crate) fn clear(&mut self) {
        self.map.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::Memo;
    use std::cell::Cell;

    #[test]
    fn a_text_is_computed_once_until_the_memo_fills() {
        let mut memo = Memo::new(2);
        let calls = Cell::new(0);
        let len = |t: &str| {
            calls.set(calls.get() + 1);
            t.len()
        };
        assert_eq!(memo.get("abc", len), 3);
        assert_eq!(memo.get("abc", len), 3);
        assert_eq!(memo.get("de", len), 2);
        assert_eq!(calls.get(), 2);
        // Full: the third text clears it, so "abc" is computed again afterwards.
        assert_eq!(memo.get("f", len), 1);
        assert_eq!(memo.get("abc", len), 3);
        assert_eq!(calls.get(), 4);
    }
}
