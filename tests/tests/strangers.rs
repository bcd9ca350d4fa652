//! Nobody with an HTTP client can lock or burn a stranger's credit (`wrangler dev`): attempts
//! count per client network, a session holds one live approval, client and session limits
//! answer 429 before the customer's ledger is asked, and sessions are rate-limited per network.
//! The merchant `pk_test_strangers` allows 5 attempts a customer a day, 3 a session, 12 an IP an
//! hour and 6 new sessions a network a minute.

mod support;

use paylater_harness::edge::Edge;
use support::*;

const KEY: &str = "pk_test_strangers";
const STRANGER: &str = "203.0.113.7";
const VICTIM: &str = "198.51.100.20";

fn session_token(edge: &Edge, ip: &str) -> String {
    let reply = session_from(edge, KEY, 12_999, ip);
    assert_eq!(reply.status, 201, "{}", reply.body);
    reply.json()["session_token"].as_str().unwrap().to_owned()
}

fn attempt(
    edge: &Edge,
    token: &str,
    email: &str,
    date_of_birth: &str,
    key: &str,
    ip: &str,
) -> paylater_harness::http::Reply {
    post_approval_from(edge, key, &approval_body(token, "pay_in_4", email, date_of_birth), ip)
}

fn reasons(reply: &paylater_harness::http::Reply) -> Vec<String> {
    reply.json()["reasons"]
        .as_array()
        .map(|r| r.iter().map(|x| x["code"].as_str().unwrap().to_owned()).collect())
        .unwrap_or_default()
}

/// A stranger tries someone's e-mail from one network until the customer's daily limit; the
/// person themselves, from their own network, is still decided on the merits. A refused 4th
/// attempt in a session is a 429 that the customer's ledger never counts.
#[test]
fn a_strangers_attempts_never_lock_the_customer_out_elsewhere() {
    let (_work, edge) = start_edge();
    let email = "victim@example.com";
    let stranger_sessions = [session_token(&edge, STRANGER), session_token(&edge, STRANGER)];
    let victim_session = session_token(&edge, VICTIM);
    let_sessions_age();

    // Three declined attempts (under age), then the session's limit: 429 with Retry-After.
    for i in 0..3 {
        let reply = attempt(
            &edge,
            &stranger_sessions[0],
            email,
            "2015-01-01",
            &format!("s1-{i}"),
            STRANGER,
        );
        assert_eq!(
            (reply.status, reasons(&reply).contains(&"under_age".to_owned())),
            (200, true),
            "{}",
            reply.body
        );
    }
    let limited = attempt(&edge, &stranger_sessions[0], email, "2015-01-01", "s1-3", STRANGER);
    assert_eq!(
        error_code(&limited),
        (429, "rate_limited".to_owned()),
        "{}",
        limited.body
    );
    let retry_after: u64 = limited.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=1800).contains(&retry_after), "{retry_after}");
    // The 429 was not counted: attempts 4 and 5 are decided, the 6th hits the daily limit.
    for i in 0..2 {
        let reply = attempt(
            &edge,
            &stranger_sessions[1],
            email,
            "2015-01-01",
            &format!("s2-{i}"),
            STRANGER,
        );
        assert!(
            !reasons(&reply).contains(&"too_many_attempts".to_owned()),
            "attempt {}: {}",
            4 + i,
            reply.body
        );
    }
    let sixth = attempt(&edge, &stranger_sessions[1], email, "2015-01-01", "s2-2", STRANGER);
    assert!(
        reasons(&sixth).contains(&"too_many_attempts".to_owned()),
        "{}",
        sixth.body
    );

    // The customer, from another network: approved.
    let own = attempt(&edge, &victim_session, email, "1990-05-17", "own-1", VICTIM);
    assert_eq!(own.json()["decision"], "approved", "{}", own.body);
    assert!(!reasons(&own).contains(&"too_many_attempts".to_owned()));
}

/// A second key in the same session: the same details get the first approval back, other
/// details a typed refusal; the customer's ledger holds one approval.
#[test]
fn a_session_holds_one_approval_whatever_the_keys() {
    let (_work, edge) = start_edge();
    let email = "once@example.com";
    let token = session_token(&edge, VICTIM);
    let_sessions_age();
    let first = attempt(&edge, &token, email, "1990-05-17", "k1", VICTIM);
    assert_eq!(first.json()["decision"], "approved", "{}", first.body);
    let again = attempt(&edge, &token, email, "1990-05-17", "k2", VICTIM);
    assert_eq!((again.status, again.header("idempotent-replayed")), (200, Some("true")));
    assert_eq!(again.json()["approval_id"], first.json()["approval_id"]);
    let other = attempt(&edge, &token, "someone.else@example.com", "1990-05-17", "k3", VICTIM);
    assert_eq!(
        error_code(&other),
        (409, "session_has_approval".to_owned()),
        "{}",
        other.body
    );
    assert_eq!(holds(&edge, email, false).len(), 1);
    assert_eq!(exposure(&edge, email, false), 12_999);
    assert_eq!(exposure(&edge, "someone.else@example.com", false), 0, "never asked");
}

/// Twelve attempts an hour from one IP, then 429 before any ledger; six sessions a minute from
/// one network, then 429, while another network still gets its session.
#[test]
fn client_limits_answer_429_before_any_ledger() {
    let (_work, edge) = start_edge();
    let ip = "192.0.2.44";
    let sessions: Vec<String> = (0..5).map(|_| session_token(&edge, ip)).collect();
    let_sessions_age();
    for n in 0..12 {
        let email = format!("ip-{n}@example.com");
        let reply = attempt(&edge, &sessions[n / 3], &email, "2015-01-01", &format!("ip-{n}"), ip);
        assert_eq!(reply.status, 200, "attempt {n}: {}", reply.body);
    }
    let limited = attempt(&edge, &sessions[4], "ip-12@example.com", "1990-05-17", "ip-12", ip);
    assert_eq!(
        error_code(&limited),
        (429, "rate_limited".to_owned()),
        "{}",
        limited.body
    );
    assert!(limited.header("retry-after").unwrap().parse::<u64>().unwrap() > 3_000);
    assert_eq!(holds(&edge, "ip-12@example.com", false).len(), 0, "no ledger was asked");

    // Sessions: five made above, a sixth, then the seventh is refused; another network is not.
    assert_eq!(
        session_from(&edge, KEY, 12_999, "192.0.2.200").status,
        201,
        "the same /24"
    );
    let refused = session_from(&edge, KEY, 12_999, ip);
    assert_eq!(
        error_code(&refused),
        (429, "rate_limited".to_owned()),
        "{}",
        refused.body
    );
    assert!(refused.header("retry-after").is_some());
    assert_eq!(session_from(&edge, KEY, 12_999, VICTIM).status, 201);
}
