//! One connection to the server: a tokio-postgres client driven by a single-threaded
//! runtime of its own (what the `postgres` crate does inside), so that several prepared
//! statements can go to the server in one flight and come back in one round trip, with
//! their bytes bound as binary parameters (no statement text to parse and plan for each
//! call, no hex to write and read).

use super::TABLE;
use super::sql::map_error;
use crate::error::{Error, Result};
use crate::store::lock_scope::Mode;
use std::future::Future;
use std::pin::Pin;
use std::task::Poll;
use tokio_postgres::types::ToSql;
use tokio_postgres::{Client, Config, NoTls, Row, Statement, ToStatement};

/// A statement's parameters, borrowed from the caller.
pub(super) type Params<'p> = Vec<&'p (dyn ToSql + Sync)>;

/// A client and the runtime that drives its socket.
pub(super) struct Link {
    runtime: tokio::runtime::Runtime,
    client: Client,
}

/// The prepared statements of one connection (every statement an operation sends).
pub(super) struct Statements {
    pub(super) begin_writing: Statement,
    pub(super) begin_snapshot: Statement,
    pub(super) commit: Statement,
    pub(super) lock_store_exclusive: Statement,
    pub(super) lock_store_shared: Statement,
    pub(super) set_lock_timeout: Statement,
    /// Advisory locks by id, each shared or exclusive, taken in the order given.
    pub(super) lock: Statement,
    pub(super) get: Statement,
    pub(super) get_many: Statement,
    /// A customer's records (`$1`) and the first `$8` rows of each of their three ranges
    /// (`[$2, $3)`, `[$4, $5)`, `[$6, $7)`): what locking a customer reads with it.
    pub(super) customer_prefetch: Statement,
    pub(super) scan_forward: Statement,
    pub(super) scan_reverse: Statement,
    pub(super) upsert: Statement,
    pub(super) delete: Statement,
    pub(super) insert_new: Statement,
    pub(super) compare_and_set: Statement,
}

/// One pooled connection: the link and its statements.
pub(super) struct Connection {
    pub(super) link: Link,
    pub(super) statements: Statements,
}

impl Link {
    /// Connect (bounded by the configuration's connect timeout).
    pub(super) fn connect(config: &Config, label: &str) -> Result<Link> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|err| {
                Error::internal(format!(
                    "cannot start the PostgreSQL client's runtime: {err}"
                ))
            })?;
        let (client, connection) = runtime
            .block_on(config.connect(NoTls))
            .map_err(|err| map_error(label, "connecting", err))?;
        // The socket is served while a call runs `block_on`; it ends with the runtime,
        // when the link is dropped, or when the server closes it.
        runtime.spawn(connection);
        Ok(Link { runtime, client })
    }

    /// Wait for `work` (a call on this link's client).
    fn run<T>(&self, work: impl Future<Output = T>) -> T {
        self.runtime.block_on(work)
    }

    pub(super) fn batch_execute(
        &self,
        text: &str,
    ) -> std::result::Result<(), tokio_postgres::Error> {
        self.run(self.client.batch_execute(text))
    }

    // One statement, waited for: what the `postgres` crate's client offered.

    pub(super) fn query_one<T: ?Sized + ToStatement>(
        &self,
        statement: &T,
        params: &[&(dyn ToSql + Sync)],
    ) -> std::result::Result<Row, tokio_postgres::Error> {
        self.run(self.client.query_one(statement, params))
    }

    pub(super) fn query_opt<T: ?Sized + ToStatement>(
        &self,
        statement: &T,
        params: &[&(dyn ToSql + Sync)],
    ) -> std::result::Result<Option<Row>, tokio_postgres::Error> {
        self.run(self.client.query_opt(statement, params))
    }

    pub(super) fn execute<T: ?Sized + ToStatement>(
        &self,
        statement: &T,
        params: &[&(dyn ToSql + Sync)],
    ) -> std::result::Result<u64, tokio_postgres::Error> {
        self.run(self.client.execute(statement, params))
    }

    pub(super) fn is_closed(&self) -> bool {
        self.client.is_closed()
    }

    /// Send every call at once and wait for all of their answers: one round trip. The
    /// server runs them in order, each statement with its own snapshot (so a read after
    /// a lock sees what was committed before the lock was granted). The rows of each, or
    /// the first error (a failed statement aborts the transaction, and those after it
    /// fail too).
    pub(super) fn pipeline(
        &self,
        calls: &[(&Statement, Params<'_>)],
    ) -> std::result::Result<Vec<Vec<Row>>, tokio_postgres::Error> {
        let futures: Vec<_> = calls
            .iter()
            .map(|(statement, params)| Box::pin(self.client.query(*statement, params)))
            .collect();
        self.run(join_in_order(futures)).into_iter().collect()
    }

    fn prepare(&self, text: &str) -> std::result::Result<Statement, tokio_postgres::Error> {
        self.run(self.client.prepare(text))
    }
}

/// Poll every future, first to last, until all are ready; their outputs in order.
/// tokio-postgres sends a query's messages when it is first polled, so the first poll
/// of all of them puts every request on the wire before any answer is awaited.
fn join_in_order<F: Future + Unpin>(mut pending: Vec<F>) -> impl Future<Output = Vec<F::Output>> {
    let mut outputs: Vec<Option<F::Output>> = pending.iter().map(|_| None).collect();
    std::future::poll_fn(move |context| {
        let mut all_ready = true;
        for (output, future) in outputs.iter_mut().zip(pending.iter_mut()) {
            if output.is_none() {
                match Pin::new(future).poll(context) {
                    Poll::Ready(value) => *output = Some(value),
                    Poll::Pending => all_ready = false,
                }
            }
        }
        match all_ready {
            true => Poll::Ready(outputs.drain(..).flatten().collect()),
            false => Poll::Pending,
        }
    })
}

impl Statements {
    /// The key range scan in one direction.
    pub(super) fn scan(&self, reverse: bool) -> &Statement {
        match reverse {
            true => &self.scan_reverse,
            false => &self.scan_forward,
        }
    }
}

/// The parameters of [`Statements::lock`]: ids and whether each is shared.
pub(super) fn lock_params(locks: &[(i64, Mode)]) -> (Vec<i64>, Vec<bool>) {
    locks
        .iter()
        .map(|(id, mode)| (*id, *mode == Mode::Shared))
        .unzip()
}

impl Connection {
    /// Prepare the statements on a link to a database that holds the store.
    pub(super) fn prepare(link: Link, label: &str) -> Result<Connection> {
        let fail = |err| map_error(label, "preparing statements", err);
        let prepare = |text: &str| link.prepare(text).map_err(fail);
        let statements = Statements {
            begin_writing: prepare("BEGIN ISOLATION LEVEL READ COMMITTED")?,
            begin_snapshot: prepare("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")?,
            commit: prepare("COMMIT")?,
            lock_store_exclusive: prepare(
                "SELECT pg_advisory_xact_lock($1::int4, hashtext(current_schema()))",
            )?,
            lock_store_shared: prepare(
                "SELECT pg_advisory_xact_lock_shared($1::int4, hashtext(current_schema()))",
            )?,
            set_lock_timeout: prepare("SELECT set_config('lock_timeout', $1, true)")?,
            lock: prepare(
                "SELECT count(CASE WHEN shared THEN pg_advisory_xact_lock_shared(id) \
                 ELSE pg_advisory_xact_lock(id) END) \
                 FROM unnest($1::bigint[], $2::bool[]) AS lock(id, shared)",
            )?,
            get: prepare(&format!("SELECT v FROM {TABLE} WHERE k = $1"))?,
            get_many: prepare(&format!(
                "SELECT k, v FROM {TABLE} WHERE k = ANY($1::bytea[])"
            ))?,
            customer_prefetch: prepare(&format!(
                "SELECT k, v FROM {TABLE} WHERE k = ANY($1::bytea[]) \
                 UNION ALL (SELECT k, v FROM {TABLE} WHERE k >= $2 AND k < $3 ORDER BY k LIMIT $8) \
                 UNION ALL (SELECT k, v FROM {TABLE} WHERE k >= $4 AND k < $5 ORDER BY k LIMIT $8) \
                 UNION ALL (SELECT k, v FROM {TABLE} WHERE k >= $6 AND k < $7 ORDER BY k LIMIT $8)"
            ))?,
            scan_forward: prepare(&format!(
                "SELECT k, v FROM {TABLE} WHERE k >= $1 AND k < $2 ORDER BY k LIMIT $3"
            ))?,
            scan_reverse: prepare(&format!(
                "SELECT k, v FROM {TABLE} WHERE k >= $1 AND k < $2 ORDER BY k DESC LIMIT $3"
            ))?,
            upsert: prepare(&format!(
                "INSERT INTO {TABLE} (k, v) SELECT * FROM unnest($1::bytea[], $2::bytea[]) \
                 ON CONFLICT (k) DO UPDATE SET v = EXCLUDED.v"
            ))?,
            delete: prepare(&format!("DELETE FROM {TABLE} WHERE k = ANY($1::bytea[])"))?,
            insert_new: prepare(&format!(
                "INSERT INTO {TABLE} (k, v) VALUES ($1, $2) ON CONFLICT (k) DO NOTHING"
            ))?,
            compare_and_set: prepare(&format!(
                "UPDATE {TABLE} SET v = $3 WHERE k = $1 AND v = $2"
            ))?,
        };
        Ok(Connection { link, statements })
    }
}
