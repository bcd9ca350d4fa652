//! The dashboard's components: signing in, the range, and the charts (the funnel, decisions and
//! their reasons, the plan mix, the anomalies on a timeline), each with its loading, empty and
//! error state. Everything drawn comes from `crate::charts`; no inline script or style is
//! needed, so the page keeps its strict Content-Security-Policy (bar lengths are set through
//! the CSSOM, which that policy allows).

use leptos::prelude::*;
use leptos::task::spawn_local;
use paylater_shared::CivilDate;
use paylater_shared::insights::{AnomalyList, Funnel};

use crate::api::{self, ApiError};
use crate::charts::{self, Bar, Mark};
use crate::range::Range;
use crate::session;

/// What a part of the page shows while its answer is on the way, and after.
#[derive(Debug, Clone, PartialEq)]
enum Load<T> {
    Loading,
    Ready(T),
    Failed(String),
}

fn today() -> Option<CivilDate> {
    CivilDate::from_unix_millis_utc(js_sys::Date::now() as i64).ok()
}

fn mode_label(key: &str) -> &'static str {
    if key.starts_with("sk_live_") {
        "Live data"
    } else {
        "Test data"
    }
}

#[component]
pub fn App() -> impl IntoView {
    let key = RwSignal::new(session::stored_key());
    let notice = RwSignal::new(None::<String>);
    let sign_out = Callback::new(move |why: Option<String>| {
        session::forget_key();
        notice.set(why);
        key.set(None);
    });
    view! {
        <header class="top">
            <h1>"Paylater insights"</h1>
            {move || {
                key.get()
                    .map(|key| {
                        view! {
                            <span class="mode" data-testid="mode">{mode_label(&key)}</span>
                            <button
                                type="button"
                                class="quiet"
                                data-testid="sign-out"
                                on:click=move |_| sign_out.run(Some("You are signed out.".to_owned()))
                            >
                                "Sign out"
                            </button>
                        }
                    })
            }}
        </header>
        {move || match (key.get(), today()) {
            (_, None) => view! { <p role="alert">"This browser's clock cannot be read."</p> }.into_any(),
            (None, _) => view! { <SignIn key notice/> }.into_any(),
            (Some(signed_in), Some(today)) => {
                view! {
                    <Insights
                        key=signed_in
                        today
                        on_key_refused=Callback::new(move |why: String| sign_out.run(Some(why)))
                    />
                }
                    .into_any()
            }
        }}
    }
}

#[component]
fn SignIn(key: RwSignal<Option<String>>, notice: RwSignal<Option<String>>) -> impl IntoView {
    let typed = RwSignal::new(String::new());
    let submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        let value = typed.get().trim().to_owned();
        if !session::looks_like_secret_key(&value) {
            notice.set(Some(
                "Enter a secret key (sk_test_… or sk_live_…) as your merchant config lists it, not a publishable key."
                    .to_owned(),
            ));
            return;
        }
        session::store_key(&value);
        notice.set(None);
        key.set(Some(value));
    };
    view! {
        <form class="sign-in card" data-testid="sign-in" on:submit=submit>
            <h2>"Sign in"</h2>
            <p>
                "Use a secret key of your merchant that has the insights:read scope. "
                "It stays in this browser tab only and is sent to the edge as a header, never in a link."
            </p>
            <label for="key">"Secret key"</label>
            <input
                id="key"
                type="password"
                autocomplete="off"
                spellcheck="false"
                required
                prop:value=move || typed.get()
                on:input=move |event| typed.set(event_target_value(&event))
            />
            <button type="submit">"Sign in"</button>
            {move || {
                notice
                    .get()
                    .map(|text| view! { <p class="notice" role="alert" data-testid="notice">{text}</p> })
            }}
        </form>
    }
}

#[component]
fn Insights(key: String, today: CivilDate, on_key_refused: Callback<String>) -> impl IntoView {
    let key = StoredValue::new(key);
    let range = RwSignal::new(Range::last_days(today, 7));
    let from_text = RwSignal::new(range.get_untracked().from.to_string());
    let to_text = RwSignal::new(range.get_untracked().to.to_string());
    let range_error = RwSignal::new(None::<String>);
    let funnel = RwSignal::new(Load::<Funnel>::Loading);
    let anomalies = RwSignal::new(Load::<AnomalyList>::Loading);
    // Answers of an older range that arrive late are dropped.
    let generation = StoredValue::new(0u32);

    let load = move |asked: Range| {
        generation.update_value(|g| *g += 1);
        let mine = generation.get_value();
        funnel.set(Load::Loading);
        anomalies.set(Load::Loading);
        let key = key.get_value();
        spawn_local(async move {
            // A key refused (401, or 403 for the scope): signed out, with the reason.
            let refused = |error: &ApiError| {
                let about_the_key = error.is_about_the_key();
                if about_the_key {
                    on_key_refused.run(error.to_string());
                }
                about_the_key
            };
            let current = move || generation.try_get_value() == Some(mine);
            match api::funnel(&key, &asked).await {
                _ if !current() => return,
                Ok(answer) => {
                    funnel.try_set(Load::Ready(answer));
                }
                Err(error) => {
                    if refused(&error) {
                        return;
                    }
                    funnel.try_set(Load::Failed(error.to_string()));
                }
            }
            match api::anomalies(&key, &asked).await {
                _ if !current() => {}
                Ok(answer) => {
                    anomalies.try_set(Load::Ready(answer));
                }
                Err(error) => {
                    if !refused(&error) {
                        anomalies.try_set(Load::Failed(error.to_string()));
                    }
                }
            }
        });
    };
    Effect::new(move |_| load(range.get()));

    let show = move |asked: Range| {
        from_text.set(asked.from.to_string());
        to_text.set(asked.to.to_string());
        range_error.set(None);
        range.set(asked);
    };
    let apply = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        match Range::parse(&from_text.get(), &to_text.get(), today) {
            Ok(asked) => show(asked),
            Err(error) => range_error.set(Some(error.to_string())),
        }
    };

    view! {
        <form class="range card" data-testid="range" on:submit=apply>
            <DateField id="from" label="First day (UTC)" value=from_text/>
            <DateField id="to" label="Last day (UTC)" value=to_text/>
            <button type="submit" data-testid="show">"Show"</button>
            <button type="button" class="quiet" on:click=move |_| show(Range::last_days(today, 7))>
                "Last 7 days"
            </button>
            <button type="button" class="quiet" on:click=move |_| show(Range::last_days(today, 30))>
                "Last 30 days"
            </button>
            {move || range_error.get().map(|text| view! { <p class="notice" role="alert">{text}</p> })}
        </form>
        <p class="shown" data-testid="shown" aria-live="polite">
            {move || {
                let shown = range.get();
                format!("{} to {} ({} days)", shown.from, shown.to, shown.days())
            }}
        </p>
        {move || match funnel.get() {
            Load::Loading => view! { <Loading/> }.into_any(),
            Load::Failed(message) => {
                view! { <Failed message retry=Callback::new(move |()| load(range.get_untracked()))/> }.into_any()
            }
            Load::Ready(answer) => view! { <FunnelCharts funnel=answer/> }.into_any(),
        }}
        {move || match anomalies.get() {
            Load::Loading => view! { <Loading/> }.into_any(),
            Load::Failed(message) => {
                view! { <Failed message retry=Callback::new(move |()| load(range.get_untracked()))/> }.into_any()
            }
            Load::Ready(answer) => {
                let marks = charts::timeline(&answer, &range.get_untracked());
                view! { <Timeline marks range=range.get_untracked()/> }.into_any()
            }
        }}
    }
}

/// A labelled date input bound to `value` (`YYYY-MM-DD`); `id` is also its test id.
#[component]
fn DateField(id: &'static str, label: &'static str, value: RwSignal<String>) -> impl IntoView {
    view! {
        <div class="field">
            <label for=id>{label}</label>
            <input
                id=id
                type="date"
                data-testid=id
                prop:value=move || value.get()
                on:input=move |event| value.set(event_target_value(&event))
            />
        </div>
    }
}

#[component]
fn Loading() -> impl IntoView {
    view! {
        <p class="loading card" aria-busy="true" data-testid="loading">
            "Loading…"
        </p>
    }
}

#[component]
fn Failed(message: String, retry: Callback<()>) -> impl IntoView {
    view! {
        <div class="error card" role="alert" data-testid="error">
            <p>{message}</p>
            <button type="button" on:click=move |_| retry.run(())>"Try again"</button>
        </div>
    }
}

#[component]
fn FunnelCharts(funnel: Funnel) -> impl IntoView {
    let sessions = funnel.steps.first().map_or(0, |step| step.sessions);
    let decisions = &funnel.decisions;
    if sessions == 0 && decisions.approved + decisions.declined + decisions.review == 0 {
        return view! {
            <p class="empty card" data-testid="empty">
                "No traffic in these days yet. Once shoppers see the widget, their steps show here within a minute."
            </p>
        }
        .into_any();
    }
    let summary = format!(
        "{} approved, {} declined, {} in review: {} approved",
        decisions.approved,
        decisions.declined,
        decisions.review,
        charts::percent(decisions.approval_rate)
    );
    view! {
        <div class="charts">
            <BarChart
                title="Funnel"
                testid="funnel"
                bars=charts::funnel_bars(&funnel)
                empty="No sessions in these days."
            />
            <section class="chart card" data-testid="decisions" aria-labelledby="decisions-title">
                <h2 id="decisions-title">"Decisions"</h2>
                <p data-testid="decision-summary">{summary}</p>
                <BarList bars=charts::reason_bars(&funnel) empty="No declines or reviews in these days."/>
            </section>
            <BarChart
                title="Plan mix"
                testid="plans"
                bars=charts::plan_bars(&funnel)
                empty="No plan was chosen in these days."
            />
        </div>
    }
    .into_any()
}

#[component]
fn BarChart(title: &'static str, testid: &'static str, bars: Vec<Bar>, empty: &'static str) -> impl IntoView {
    let heading = format!("{testid}-title");
    let labelled_by = heading.clone();
    view! {
        <section class="chart card" data-testid=testid aria-labelledby=labelled_by>
            <h2 id=heading>{title}</h2>
            <BarList bars empty/>
        </section>
    }
}

#[component]
fn BarList(bars: Vec<Bar>, empty: &'static str) -> impl IntoView {
    if bars.is_empty() {
        return view! { <p class="empty">{empty}</p> }.into_any();
    }
    view! {
        <ol class="bars">
            {bars
                .into_iter()
                .map(|bar| {
                    view! {
                        <li class="bar-row">
                            <span class="bar-label">{bar.label}</span>
                            <span class="bar-track" aria-hidden="true">
                                <span class="bar" style:width=format!("{}%", bar.width_percent)></span>
                            </span>
                            <span class="bar-value">
                                <strong>{bar.value}</strong>
                                " "
                                <small>{bar.note}</small>
                            </span>
                        </li>
                    }
                })
                .collect_view()}
        </ol>
    }
    .into_any()
}

#[component]
fn Timeline(marks: Vec<Mark>, range: Range) -> impl IntoView {
    let body = if marks.is_empty() {
        view! { <p class="empty">"No anomalies in these days."</p> }.into_any()
    } else {
        view! {
            <div class="timeline" aria-hidden="true">
                <span class="axis"></span>
                {marks
                    .iter()
                    .map(|mark| view! { <span class="mark" style:left=format!("{}%", mark.left_percent)></span> })
                    .collect_view()}
            </div>
            <p class="axis-labels" aria-hidden="true">
                <span>{range.from.to_string()}</span>
                <span>{range.to.to_string()}</span>
            </p>
            <ol class="anomaly-list">
                {marks
                    .into_iter()
                    .map(|mark| {
                        view! {
                            <li>
                                <strong>{mark.title}</strong>
                                " "
                                <span class="when">{mark.when}</span>
                                ": "
                                {mark.detail}
                            </li>
                        }
                    })
                    .collect_view()}
            </ol>
        }
        .into_any()
    };
    view! {
        <section class="chart card" data-testid="anomalies" aria-labelledby="anomalies-title">
            <h2 id="anomalies-title">"Anomalies"</h2>
            {body}
        </section>
    }
}
