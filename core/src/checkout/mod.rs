//! Checkout: price a basket for a customer (discounts, points that may pay, points
//! that will be earned, cashier messages), commit it atomically as a visit, and
//! refund it whole or by lines, reversing exactly the share of what it did.
//!
//! `checkout.quote` and `checkout.commit` run the same `price` function on the same
//! input, so what the cashier was quoted is what is committed.

mod args;
mod commit;
mod messages;
mod pricing;

pub(crate) use args::check_lines;
pub use args::{CheckoutArgs, LineInput};
pub use commit::{Receipt, commit};
pub use messages::PRIORITY_SERVICE;
pub use pricing::Priced;

use crate::context::Ctx;
use crate::error::Result;
use crate::ledger::Book;
use crate::plugin::hook::Plugins;
use crate::store::Reader;
use args::{Redeem, Request, agreement_code, check_exclusive, load_request};
use messages::messages;
use pricing::price;

/// `checkout.quote`: price the basket, change nothing.
pub fn quote<R: Reader>(
    reader: &R,
    ctx: &Ctx,
    plugins: &Plugins<'_>,
    args: &CheckoutArgs,
) -> Result<Priced> {
    let request = load_request(reader, ctx, args)?;
    let mut book = Book::load(reader, request.customer.id)?;
    book.settle(ctx)?;
    Ok(price(reader, ctx, plugins, &request, &book)?.0)
}

#[cfg(test)]
mod tests {
    use crate::amount::split_largest_remainder as allocate_units;
    use rust_decimal::Decimal;

    #[test]
    fn allocation_is_exact_and_deterministic() {
        let weights = [
            Decimal::new(100, 0),
            Decimal::new(100, 0),
            Decimal::new(100, 0),
        ];
        let caps = [100, 100, 100];
        let shares = allocate_units(100, &weights, &caps);
        assert_eq!(shares.iter().sum::<i64>(), 100);
        assert_eq!(shares, vec![34, 33, 33]);
    }

    #[test]
    fn allocation_respects_caps() {
        let weights = [
            Decimal::new(5, 1),
            Decimal::new(5, 1),
            Decimal::new(1000, 0),
        ];
        let caps = [0, 0, 1000];
        let shares = allocate_units(1000, &weights, &caps);
        assert_eq!(shares, vec![0, 0, 1000]);
    }
}
