//! What the terms look like at a moment: the two answers the widget needs (the merchant's
//! public config and this amount's offers), combined into one state. Shared by the card and the
//! dialog.

use paylater_shared::merchant::PublicMerchantConfig;
use paylater_shared::{MinorUnits, OffersResponse, PlanKind, WidgetOptions, WidgetOptionsError};
use serde::Serialize;

use crate::copy::unavailable;
use crate::edge_api::EdgeApiError;
use crate::host::WidgetState;

/// What the terms look like right now.
#[derive(Debug, Clone, PartialEq)]
pub enum Terms {
    Loading,
    /// The merchant's attributes are wrong (already reported to the page by `entry`).
    Invalid,
    Failed(EdgeApiError),
    /// No plan covers the amount: the polite reason.
    Unavailable(String),
    Ready {
        options: WidgetOptions,
        config: PublicMerchantConfig,
        offers: OffersResponse,
    },
}

impl Terms {
    /// Combines the two answers the widget needs; either failing fails the terms.
    pub fn from_parts(
        options: Result<WidgetOptions, WidgetOptionsError>,
        config: Option<Result<PublicMerchantConfig, EdgeApiError>>,
        offers: Option<Result<OffersResponse, EdgeApiError>>,
    ) -> Self {
        let Ok(options) = options else {
            return Self::Invalid;
        };
        match (config, offers) {
            (Some(Err(error)), _) | (_, Some(Err(error))) => Self::Failed(error),
            (Some(Ok(config)), Some(Ok(offers))) => {
                // A stale answer for an older amount is not this amount's terms.
                if offers.amount != options.amount || offers.currency != options.currency {
                    Self::Loading
                } else if offers.plans.is_empty() {
                    Self::Unavailable(unavailable(&config, &options))
                } else {
                    Self::Ready {
                        options,
                        config,
                        offers,
                    }
                }
            }
            _ => Self::Loading,
        }
    }

    /// The `data-paylater-state` these terms give, before any decision.
    pub fn state(&self) -> WidgetState {
        match self {
            Self::Loading => WidgetState::Loading,
            Self::Invalid | Self::Failed(_) => WidgetState::Error,
            Self::Unavailable(_) => WidgetState::Unavailable,
            Self::Ready { .. } => WidgetState::Ready,
        }
    }
}

/// The `paylater:ready` detail (CONTRACT §2).
pub fn ready_detail(offers: &OffersResponse) -> ReadyDetail<'_> {
    ReadyDetail {
        plans: offers
            .plans
            .iter()
            .map(|o| ReadyPlan {
                id: &o.id,
                kind: o.kind,
                installments: o.installments,
                installment_amount: o.installment_amount,
                total: o.total,
                apr_bps: o.apr_bps,
            })
            .collect(),
    }
}

/// `paylater:ready`'s detail: each plan's headline figures.
#[derive(Debug, Serialize)]
pub struct ReadyDetail<'a> {
    pub plans: Vec<ReadyPlan<'a>>,
}

/// One plan in `paylater:ready`.
#[derive(Debug, Serialize)]
pub struct ReadyPlan<'a> {
    pub id: &'a str,
    pub kind: PlanKind,
    pub installments: u8,
    pub installment_amount: MinorUnits,
    pub total: MinorUnits,
    pub apr_bps: u32,
}
