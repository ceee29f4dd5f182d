//! # Pitstop core
//!
//! An embedded loyalty core for auto-service businesses: customers, cards, vehicles,
//! visit history, the points ledger, tiers and discounts, stored durably in sled and
//! reached through one operation set (`noun.verb` JSON operations).
//!
//! ```
//! use pitstop_core::{Engine, EngineOptions, Program};
//! use serde_json::json;
//!
//! let dir = std::env::temp_dir().join(format!("pitstop-doc-{}", std::process::id()));
//! let _ = std::fs::remove_dir_all(&dir);
//! let engine = Engine::open(&dir, EngineOptions::default()).unwrap();
//! engine.execute("program.set", json!({ "program": Program::example() })).unwrap();
//! let reply = engine.execute_json(r#"{"op": "customer.register",
//!     "args": {"full_name": "Иванов Иван", "phone": "8 916 123-45-67"}}"#);
//! assert!(reply.starts_with(r#"{"ok":true"#));
//! # drop(engine); std::fs::remove_dir_all(&dir).unwrap();
//! ```
//!
//! ## Layers
//!
//! Each module sits in one layer and imports only from its own layer and the layers
//! above it in this table: values know nothing of storage, records nothing of the
//! operations that combine them, the operations nothing of the table that names them.
//! `tests/suite/layers.rs` reads this table and fails on an import that goes the other way,
//! on a module that is not in it, and on modules that import each other round a cycle.
//!
//! | layer | what | modules |
//! |---|---|---|
//! | 1 | values and rules | `error` `amount` `normalize` `json` `wording` `paging` `program` `reference` `audit` `service_name` `person_name` |
//! | 2 | storage | `store` |
//! | 3 | records | `aggregate` `context` `customer` `vehicle` `naming` `visit` `ledger` `order` `tyre_storage` `segment` `recommendation` `feedback` `plugin::outcome` `audit_log` `catalog` |
//! | 4 | domain operations | `tier` `points` `plugin` `checkout` `refund` `referral` `reminder` `history` `report` `simulate` `campaign` `dashboard` `jobs` `personal_data` `recount` `check` `membership` `views` `merge` |
//! | 5 | the operation table | `session` `ops` |
//! | 6 | the engine | `engine` |

mod aggregate;
mod amount;
mod audit;
mod audit_log;
mod campaign;
mod catalog;
mod check;
mod checkout;
mod context;
mod customer;
mod dashboard;
mod engine;
mod error;
mod feedback;
mod history;
mod jobs;
pub mod json;
mod ledger;
mod membership;
mod merge;
mod naming;
mod normalize;
mod ops;
mod order;
mod paging;
mod person_name;
mod personal_data;
mod plugin;
mod points;
mod program;
mod recommendation;
mod recount;
mod reference;
mod referral;
mod refund;
mod reminder;
mod report;
mod segment;
mod service_name;
mod session;
mod simulate;
mod store;
mod tier;
mod tyre_storage;
mod vehicle;
mod views;
mod visit;
mod wording;

// The host's API: open an engine, run operations by name, read their errors. A host
// that wants typed arguments and results for `Engine::call` finds them in `types`.
pub use engine::{DurabilityOption, Engine, EngineOptions, REQUEST_BYTES_MAX, response};
pub use error::{Error, ErrorCode, Result, panic_text};
pub use ops::{OPS, OpSpec, names as operation_names};
pub use program::Program;
pub use store::backup::BackupSummary;
pub use wording::{Language, Message, PluralForm};

/// The typed arguments and results of the operations, for [`Engine::call`].
///
/// Results are `#[non_exhaustive]`: a later version may add a field or a variant
/// without breaking a host that reads them. Arguments a host builds itself
/// (`CheckoutArgs`, `LineInput`, `RefundArgs`, `RefundLine`, `ReportArgs`,
/// `SimulateArgs`, and the references `CustomerRef`, `VehicleRef`) stay open to struct
/// literals, since that is how a Rust host writes them.
pub mod types {
    pub use crate::audit_log::{AuditRecordView, ChangeView, ChangesArgs, ChangesPage};
    pub use crate::catalog::{
        AliasGroup, AliasList, DuplicateGroup as ServiceNameGroup, DuplicateName as ServiceNameUse,
        Duplicates as ServiceNameDuplicates, Unaliased,
    };
    pub use crate::check::{CheckReport, StoreStats};
    pub use crate::checkout::{CheckoutArgs, LineInput, Priced, Receipt};
    pub use crate::customer::{
        Card, Channel, Customer, CustomerKind, CustomerRef, CustomerStatus, Gender,
    };
    pub use crate::feedback::{Feedback, FeedbackKind, FeedbackRules};
    pub use crate::jobs::DailyReport;
    pub use crate::ledger::{Account, Allocation, Entry, EntryKind, Hold, HoldStatus, Lot};
    pub use crate::merge::{
        Candidate as DuplicateCandidate, Distinct, DuplicatesPage, MergeResult,
        Reason as DuplicateReason,
    };
    pub use crate::order::{OrderStatus, SpecialOrder};
    pub use crate::plugin::{
        ABI_VERSION as PLUGIN_ABI_VERSION, AppliedEffect, Audience, OnError, OutcomeError,
        OutcomeStatus, PluginError, PluginErrorKind, PluginOutcome, PluginRecord,
    };
    pub use crate::points::{Balance, Statement};
    pub use crate::program::LineKind;
    pub use crate::recommendation::{Recommendation, RecommendationStatus, Urgency};
    pub use crate::refund::{RefundArgs, RefundLine, RefundResult};
    pub use crate::reminder::{
        DuePage, MarkStatus, Reminder, ReminderKind, ReminderMark, ReminderRules,
    };
    pub use crate::report::{
        Activity, ActivityRow, BirthdayRow, BirthdaysReport, CohortRow, CohortsReport, Consents,
        CustomerRow, CustomersReport, ExpiringSoon, LapsedReport, LapsedRow, MonthBest,
        ParetoReport, ParetoRow, PointsMonth, PointsMonthly, PointsReport, ReportArgs, ServiceRow,
        ServicesReport, SourceRow, SourcesReport, TierCount, TierMoveRow, TiersReport,
    };
    pub use crate::report::{CompletenessReport, FixRow, GenderRow, NameFixRow, RegistrarRow};
    pub use crate::simulate::{
        CustomerChange, Figures, Movement, Outcome, SimulateArgs, Simulation, SkippedVisit,
        TierHeadcount,
    };
    pub use crate::tier::{MoveReason, TierMove};
    pub use crate::tyre_storage::{Season, TyreStorage};
    pub use crate::vehicle::{Usage, Vehicle, VehicleRef};
    pub use crate::visit::{Visit, VisitLine};
}

/// The plugin runtime on its own, outside an engine: for the plugin benchmark and the
/// runtime's own tests. Not part of the host API; it may change in any release.
#[doc(hidden)]
pub mod plugin_runtime {
    pub use crate::plugin::{
        CallOutput, CallStep, CallSteps, Hook, Limits, PluginModule, PluginRuntime,
    };
}

/// Version of this library.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
