//! What each chart shows, computed from the edge's answers: bars scaled to the largest value with
//! their labels, and the anomalies placed on the range's timeline. The components only draw these.

use paylater_shared::insights::{AnomalyEntry, AnomalyList, Funnel};

use crate::range::Range;

/// One bar: its label, its value, its length (0 to 100, of the chart's largest) and the note
/// beside the value.
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    pub label: String,
    pub value: u64,
    pub width_percent: f64,
    pub note: String,
}

/// `0.8` → `80.0%`; no ratio (nothing to divide by) → `–`.
pub fn percent(ratio: Option<f64>) -> String {
    match ratio {
        Some(ratio) => format!("{:.1}%", ratio * 100.0),
        None => "–".to_owned(),
    }
}

fn width(value: u64, largest: u64) -> f64 {
    if largest == 0 {
        0.0
    } else {
        (value as f64 / largest as f64 * 1000.0).round() / 10.0
    }
}

/// A funnel step's name as a merchant reads it.
pub fn step_title(step: &str) -> String {
    match step {
        "widget_loaded" => "Widget shown".to_owned(),
        "widget_viewed" => "Widget seen".to_owned(),
        "terms_opened" => "Terms opened".to_owned(),
        "plan_selected" => "Plan chosen".to_owned(),
        "approval_started" => "Application started".to_owned(),
        "approval_submitted" => "Application sent".to_owned(),
        "approved" => "Approved".to_owned(),
        "order_created" => "Order created".to_owned(),
        other => other.replace('_', " "),
    }
}

/// A reason code as words: `under_age` → `under age`.
pub fn reason_title(code: &str) -> String {
    code.replace('_', " ")
}

/// The funnel's steps, each with the share of the step before (the first: of itself).
pub fn funnel_bars(funnel: &Funnel) -> Vec<Bar> {
    let largest = funnel.steps.iter().map(|s| s.sessions).max().unwrap_or(0);
    funnel
        .steps
        .iter()
        .enumerate()
        .map(|(i, step)| Bar {
            label: step_title(&step.step),
            value: step.sessions,
            width_percent: width(step.sessions, largest),
            note: if i == 0 {
                "sessions".to_owned()
            } else {
                format!("{} of the step before", percent(step.from_previous))
            },
        })
        .collect()
}

/// Decline and review reasons, most frequent first (as the edge sends them).
pub fn reason_bars(funnel: &Funnel) -> Vec<Bar> {
    let largest = funnel.reasons.iter().map(|r| r.count).max().unwrap_or(0);
    funnel
        .reasons
        .iter()
        .map(|reason| Bar {
            label: format!("{}: {}", reason.outcome, reason_title(&reason.code)),
            value: reason.count,
            width_percent: width(reason.count, largest),
            note: "decisions".to_owned(),
        })
        .collect()
}

/// The plans shoppers chose, with their share of all choices.
pub fn plan_bars(funnel: &Funnel) -> Vec<Bar> {
    let largest = funnel.plans.iter().map(|p| p.selections).max().unwrap_or(0);
    funnel
        .plans
        .iter()
        .map(|plan| Bar {
            label: reason_title(&plan.plan_id),
            value: plan.selections,
            width_percent: width(plan.selections, largest),
            note: format!("{} of choices", percent(Some(plan.share))),
        })
        .collect()
}

/// A metric's name as a merchant reads it.
pub fn metric_title(metric: &str) -> String {
    match metric {
        "decline_rate" => "Decline rate".to_owned(),
        "review_rate" => "Review rate".to_owned(),
        "widget_error_rate" => "Widget errors".to_owned(),
        "refused_tokens" => "Refused session tokens".to_owned(),
        "rate_limited" => "Rate-limited requests".to_owned(),
        "velocity_flags" => "Velocity flags".to_owned(),
        "token_reused" => "Reused tokens".to_owned(),
        "automated_agent" => "Automated agents".to_owned(),
        "attempts_per_customer" => "Attempts by one customer".to_owned(),
        other => other.replace('_', " "),
    }
}

/// An anomaly on the timeline: where (0 to 100 along the range), and what it says.
#[derive(Debug, Clone, PartialEq)]
pub struct Mark {
    pub left_percent: f64,
    pub title: String,
    /// `2026-11-30 14:05 UTC`.
    pub when: String,
    /// `observed 0.9, expected 0.14 (6.9σ)`.
    pub detail: String,
}

/// `2026-11-30T14:05:00.000Z` → `2026-11-30 14:05 UTC`; anything else as it is.
fn minute(rfc3339: &str) -> String {
    match (rfc3339.get(..10), rfc3339.get(11..16)) {
        (Some(day), Some(time)) => format!("{day} {time} UTC"),
        _ => rfc3339.to_owned(),
    }
}

/// Minutes since the range's first midnight, from an RFC 3339 UTC time.
fn minutes_into(range: &Range, rfc3339: &str) -> Option<i64> {
    let day = paylater_shared::CivilDate::parse(rfc3339.get(..10)?).ok()?;
    let hours: i64 = rfc3339.get(11..13)?.parse().ok()?;
    let minutes: i64 = rfc3339.get(14..16)?.parse().ok()?;
    Some((day.days_since_epoch() - range.from.days_since_epoch()) * 1440 + hours * 60 + minutes)
}

/// A figure with at most three significant decimals.
fn figure(value: f64) -> String {
    let text = format!("{value:.3}");
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// The anomalies placed along the range, oldest first.
pub fn timeline(list: &AnomalyList, range: &Range) -> Vec<Mark> {
    let span = (range.days() * 1440).max(1) as f64;
    list.anomalies
        .iter()
        .map(|anomaly: &AnomalyEntry| Mark {
            left_percent: minutes_into(range, &anomaly.window_start)
                .map(|m| (m as f64 / span * 1000.0).round().clamp(0.0, 1000.0) / 10.0)
                .unwrap_or(0.0),
            title: metric_title(&anomaly.metric),
            when: minute(&anomaly.window_start),
            detail: format!(
                "observed {}, expected {} ({}σ)",
                figure(anomaly.observed),
                figure(anomaly.expected),
                figure((anomaly.score * 10.0).round() / 10.0)
            ),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use paylater_shared::CivilDate;
    use paylater_shared::insights::{Decisions, FunnelStep, Granularity, PlanShare, ReasonCount};

    fn funnel() -> Funnel {
        let step = |step: &str, sessions: u64, from_previous: Option<f64>| FunnelStep {
            step: step.to_owned(),
            sessions,
            from_previous,
            from_first: None,
            drop_off: 0,
        };
        Funnel {
            from: "2026-11-30".into(),
            to: "2026-11-30".into(),
            granularity: Granularity::Day,
            livemode: false,
            steps: vec![
                step("widget_loaded", 120, None),
                step("widget_viewed", 96, Some(0.8)),
                step("approved", 0, Some(0.0)),
            ],
            periods: Vec::new(),
            decisions: Decisions {
                approved: 22,
                declined: 8,
                review: 0,
                approval_rate: Some(0.7333),
            },
            reasons: vec![
                ReasonCount {
                    outcome: "declined".into(),
                    code: "under_age".into(),
                    count: 8,
                },
                ReasonCount {
                    outcome: "declined".into(),
                    code: "credit_limit".into(),
                    count: 3,
                },
            ],
            plans: vec![PlanShare {
                plan_id: "pay_in_4".into(),
                selections: 30,
                share: 0.75,
            }],
            order_value: Vec::new(),
        }
    }

    #[test]
    fn funnel_bars_scale_to_the_first_step_and_say_the_conversion() {
        let bars = funnel_bars(&funnel());
        assert_eq!(bars[0].label, "Widget shown");
        assert_eq!((bars[0].value, bars[0].width_percent), (120, 100.0));
        assert_eq!(bars[0].note, "sessions");
        assert_eq!(
            (bars[1].width_percent, bars[1].note.as_str()),
            (80.0, "80.0% of the step before")
        );
        assert_eq!(
            (bars[2].width_percent, bars[2].note.as_str()),
            (0.0, "0.0% of the step before")
        );
    }

    #[test]
    fn reasons_and_plans_scale_to_their_largest() {
        let reasons = reason_bars(&funnel());
        assert_eq!(reasons[0].label, "declined: under age");
        assert_eq!((reasons[0].width_percent, reasons[1].width_percent), (100.0, 37.5));
        let plans = plan_bars(&funnel());
        assert_eq!(
            (plans[0].label.as_str(), plans[0].note.as_str()),
            ("pay in 4", "75.0% of choices")
        );
    }

    #[test]
    fn an_empty_answer_draws_empty_bars_not_a_division_by_zero() {
        let mut empty = funnel();
        empty.steps.iter_mut().for_each(|s| s.sessions = 0);
        assert!(funnel_bars(&empty).iter().all(|b| b.width_percent == 0.0));
        assert_eq!(percent(None), "–");
    }

    #[test]
    fn anomalies_sit_where_their_window_starts_within_the_range() {
        let range = Range {
            from: CivilDate::parse("2026-11-29").unwrap(),
            to: CivilDate::parse("2026-11-30").unwrap(),
        };
        let entry = |metric: &str, start: &str| AnomalyEntry {
            metric: metric.into(),
            window_start: start.into(),
            window_end: String::new(),
            expected: 0.14,
            observed: 0.9,
            score: 6.853,
            volume: 10,
        };
        let list = AnomalyList {
            from: "2026-11-29".into(),
            to: "2026-11-30".into(),
            livemode: false,
            anomalies: vec![
                entry("decline_rate", "2026-11-29T00:00:00.000Z"),
                entry("refused_tokens", "2026-11-30T12:00:00.000Z"),
                entry("automated_agent", "garbage"),
            ],
        };
        let marks = timeline(&list, &range);
        assert_eq!(marks[0].left_percent, 0.0);
        assert_eq!(marks[1].left_percent, 75.0);
        assert_eq!(marks[2].left_percent, 0.0);
        assert_eq!(marks[1].title, "Refused session tokens");
        assert_eq!(marks[1].when, "2026-11-30 12:00 UTC");
        assert_eq!(marks[0].detail, "observed 0.9, expected 0.14 (6.9σ)");
    }
}
