//! Errors of the engine: definitions that cannot be compiled, and orders that make no sense.

/// Where in a definition something is wrong (`rules.2.conditions.$more_than`) and what.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {kind}")]
pub struct DefinitionError {
    pub path: String,
    pub kind: DefinitionErrorKind,
}

impl DefinitionError {
    pub fn new(path: impl Into<String>, kind: DefinitionErrorKind) -> Self {
        Self { path: path.into(), kind }
    }
}

/// What is wrong with a definition.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DefinitionErrorKind {
    #[error("unknown rule name `{0}`")]
    UnknownRuleName(String),
    #[error("rule `{0}` must have a `property`")]
    MissingProperty(String),
    #[error("unknown condition `{0}`")]
    UnknownCondition(String),
    #[error("condition `{op}` {problem}")]
    BadConditionValue { op: String, problem: String },
    #[error("rule has no conditions")]
    NoConditions,
    #[error("malformed logic `{logic}`: {problem}")]
    MalformedLogic { logic: String, problem: String },
    #[error("formula syntax error at {position}: {problem}")]
    FormulaSyntax { position: usize, problem: String },
    #[error("percent must be within 0..=100, got {0}")]
    PercentOutOfRange(String),
    #[error("amount must not be negative, got {0}")]
    NegativeAmount(i64),
    #[error("quantity must be positive, got {0}")]
    NonPositiveQuantity(i64),
    #[error("is required")]
    Missing,
    #[error("effect `{effect}` is not allowed for discount type `{discount_type}`")]
    EffectNotAllowed { discount_type: String, effect: String },
    #[error("the window is empty: {0}")]
    EmptyWindow(String),
    #[error("invalid value: {0}")]
    Invalid(String),
    #[error("nesting is deeper than {0} levels")]
    TooDeep(usize),
}

/// An order that cannot be evaluated (the request is wrong, not the promotion).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OrderError {
    #[error("order.items[{index}].quantity must be positive")]
    NonPositiveQuantity { index: usize },
    #[error("order.items[{index}] has a negative price or amount")]
    NegativeItemAmount { index: usize },
    #[error("order.amount {amount} is less than the sum of item amounts {items}")]
    AmountBelowItems { amount: i64, items: i64 },
    #[error("order.amount must not be negative")]
    NegativeAmount,
    #[error("order.items[{index}] quantity or amount is too large")]
    ItemTooLarge { index: usize },
    #[error("order.amount is too large")]
    AmountTooLarge,
    #[error("order has more than {0} items")]
    TooManyItems(usize),
    #[error("order.shipping_amount and order.tax_amount must not be negative")]
    NegativeCharges,
    #[error(
        "order.shipping_amount + order.tax_amount ({charges}) is more than order.amount holds beyond its items ({unitemized})"
    )]
    ChargesAboveUnitemized { charges: i64, unitemized: i64 },
}
