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
//! `tests/layers.rs` reads this table and fails on an import that goes the other way,
//! on a module that is not in it, and on modules that import each other round a cycle.
//!
//! | layer | what | modules |
//! |---|---|---|
//! | 1 | values and rules | `error` `amount` `normalize` `json` `wording` `program` `reference` `service_name` `person_name` |
//! | 2 | storage | `store` |
//! | 3 | records | `context` `customer` `vehicle` `naming` `visit` `ledger` `order` `tyre_storage` `segment` `recommendation` `feedback` `plugin::outcome` `catalog` |
//! | 4 | domain operations | `tier` `points` `plugin` `checkout` `refund` `referral` `reminder` `history` `report` `simulate` `campaign` `dashboard` `jobs` `personal_data` `check` `membership` `views` |
//! | 5 | the operation table | `session` `ops` |
//! | 6 | the engine | `engine` |

mod amount;
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
mod naming;
mod normalize;
mod ops;
mod order;
mod person_name;
mod personal_data;
mod plugin;
mod points;
mod program;
mod recommendation;
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

pub use catalog::{AliasGroup, AliasList, DuplicateGroup, DuplicateName, Duplicates, Unaliased};
pub use check::{CheckReport, StoreStats};
pub use checkout::{CheckoutArgs, LineInput, Priced, Receipt};
pub use context::Ctx;
pub use customer::{Card, Channel, Customer, CustomerKind, CustomerRef, CustomerStatus, Gender};
pub use engine::{DurabilityOption, Engine, EngineOptions, REQUEST_BYTES_MAX, response};
pub use error::{Error, ErrorCode, Result, panic_text};
pub use feedback::{Feedback, FeedbackKind, FeedbackRules};
pub use jobs::DailyReport;
pub use ledger::{Account, Allocation, Entry, EntryKind, Hold, HoldStatus, Lot};
pub use ops::{OPS, OpSpec, names as operation_names};
pub use order::{OrderStatus, SpecialOrder};
pub use plugin::{
    ABI_VERSION as PLUGIN_ABI_VERSION, AppliedEffect, Audience, CallOutput, Hook,
    Limits as PluginLimits, OnError, OutcomeError, OutcomeStatus, PluginError, PluginErrorKind,
    PluginModule, PluginOutcome, PluginRecord, PluginRuntime,
};
pub use points::{Balance, Statement};
pub use program::{LineKind, Program};
pub use recommendation::{Recommendation, RecommendationStatus, Urgency};
pub use refund::{RefundArgs, RefundLine, RefundResult};
pub use reminder::{DuePage, MarkStatus, Reminder, ReminderKind, ReminderMark, ReminderRules};
pub use report::{
    Activity, ActivityRow, BirthdayRow, BirthdaysReport, CohortRow, CohortsReport, Consents,
    CustomerRow, CustomersReport, ExpiringSoon, LapsedReport, LapsedRow, MonthBest, ParetoReport,
    ParetoRow, PointsMonth, PointsMonthly, PointsReport, ReportArgs, ServiceRow, ServicesReport,
    SourceRow, SourcesReport, TierCount, TierMoveRow, TiersReport,
};
pub use report::{CompletenessReport, FixRow, GenderRow, NameFixRow, RegistrarRow};
pub use simulate::{
    CustomerChange, Figures, Movement, Outcome, SimulateArgs, Simulation, SkippedVisit,
    TierHeadcount,
};
pub use store::backup::BackupSummary;
pub use tier::{MoveReason, TierMove};
pub use tyre_storage::{Season, TyreStorage};
pub use vehicle::{Usage, Vehicle, VehicleRef};
pub use visit::{Visit, VisitLine};
pub use wording::Message;
pub use wording::{Language, PluralForm};

/// Version of this library.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
