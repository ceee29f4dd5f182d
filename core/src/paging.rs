//! Paging: how many items one call of a listing operation may return, and the page it
//! returns.
//!
//! Every listing operation takes an optional `limit`. Without one it gets its default;
//! a `limit` outside `1..=max` is refused, naming the field, rather than clamped, so a
//! caller who asked for more than a page holds learns it at once instead of believing
//! it has everything. The largest page bounds one call's memory and time.

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

/// The sizes a listing operation accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageSize {
    /// Used when the caller gives no `limit`.
    pub default: usize,
    /// The largest `limit` accepted.
    pub max: usize,
}

impl PageSize {
    /// A page size; `default` must lie in `1..=max` (checked when the constant is built).
    pub const fn new(default: usize, max: usize) -> PageSize {
        assert!(
            default >= 1 && default <= max,
            "page default outside 1..=max"
        );
        PageSize { default, max }
    }

    /// The caller's `limit`, or the default when none was given.
    pub fn of(self, requested: Option<usize>) -> Result<usize> {
        let limit = requested.unwrap_or(self.default);
        if limit == 0 || limit > self.max {
            return Err(Error::invalid("limit", format!("must be 1..={}", self.max)));
        }
        Ok(limit)
    }
}

/// One page of a listing: its items, and what to pass to get the next page (`null` on
/// the last one). `C` is the listing's cursor: an id, or an opaque text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Page<T, C> {
    /// The items, in the listing's order.
    pub items: Vec<T>,
    /// Pass back to continue after the last item; `null` when there is no more.
    pub next: Option<C>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;

    #[test]
    fn a_missing_limit_takes_the_default_and_a_bad_one_is_refused_by_name() {
        let size = PageSize::new(20, 100);
        assert_eq!(size.of(None).unwrap(), 20);
        assert_eq!(size.of(Some(1)).unwrap(), 1);
        assert_eq!(size.of(Some(100)).unwrap(), 100);
        for bad in [0, 101, usize::MAX] {
            let err = size.of(Some(bad)).unwrap_err();
            assert_eq!(err.code, ErrorCode::InvalidArgument);
            assert!(err.message.contains("limit"), "{}", err.message);
            assert!(err.message.contains("1..=100"), "{}", err.message);
        }
    }

    #[test]
    fn a_page_keeps_its_wire_shape() {
        let page: Page<u32, u64> = Page {
            items: vec![1, 2],
            next: Some(7),
        };
        let text = serde_json::to_string(&page).unwrap();
        assert_eq!(text, r#"{"items":[1,2],"next":7}"#);
    }
}
