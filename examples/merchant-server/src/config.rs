//! The server's settings, from command-line flags or the environment (a flag wins over the
//! environment, the environment over the default). The defaults are the local demo's.

use std::fmt;
use std::net::SocketAddr;

use thiserror::Error;

pub const DEFAULT_EDGE_URL: &str = "http://127.0.0.1:8787";
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8790";
/// The demo merchant's documented local test key (docs/merchant-server.md): local only.
pub const DEFAULT_SECRET_KEY: &str = "sk_test_demo.local-dev-only-4bXq9TzR7wLmN2pVc8sKd3Fh";
pub const DEFAULT_MERCHANT_ID: &str = "m_nordic_outdoor";
pub const DEFAULT_ALLOWED_ORIGIN: &str = "http://127.0.0.1:8080";

pub const USAGE: &str = "usage: merchant-server [--edge URL] [--listen 127.0.0.1:PORT] [--secret-key KEY]
                       [--merchant-id ID] [--allowed-origin ORIGIN]

  --edge URL               the edge (env PAYLATER_EDGE_URL; default http://127.0.0.1:8787)
  --listen ADDR            loopback address to listen on, port 0 for any free port
                           (env MERCHANT_SERVER_LISTEN; default 127.0.0.1:8790)
  --secret-key KEY         sk_test_… or sk_live_… (env PAYLATER_SECRET_KEY; default the demo's
                           local test key). Prefer the environment: flags show in `ps`.
  --merchant-id ID         the approval tokens' audience (env PAYLATER_MERCHANT_ID;
                           default m_nordic_outdoor)
  --allowed-origin ORIGIN  the shop page's origin, allowed to call POST /orders from the browser
                           (env MERCHANT_SERVER_ALLOWED_ORIGIN; default http://127.0.0.1:8080)";

/// Flags and the environment variables they may come from instead.
const SETTINGS: [(&str, &str); 5] = [
    ("--edge", "PAYLATER_EDGE_URL"),
    ("--listen", "MERCHANT_SERVER_LISTEN"),
    ("--secret-key", "PAYLATER_SECRET_KEY"),
    ("--merchant-id", "PAYLATER_MERCHANT_ID"),
    ("--allowed-origin", "MERCHANT_SERVER_ALLOWED_ORIGIN"),
];

/// Why the server will not start.
#[derive(Debug, PartialEq, Eq, Error)]
pub enum ConfigError {
    #[error("{USAGE}")]
    Help,
    #[error("unknown argument {0:?}\n\n{USAGE}")]
    UnknownArgument(String),
    #[error("{0} needs a value")]
    MissingValue(&'static str),
    #[error("the edge URL must be http://HOST[:PORT] without a path (this example has no TLS backend), not {0:?}")]
    EdgeUrl(String),
    #[error(
        "the listen address must be a loopback IP and a port, like 127.0.0.1:8790 (this server has no login), not {0:?}"
    )]
    Listen(String),
    #[error("the secret key must look like sk_test_NAME.SECRET or sk_live_NAME.SECRET")]
    SecretKey,
    #[error("the merchant id must be 1 to 64 visible ASCII characters, not {0:?}")]
    MerchantId(String),
    #[error("the allowed origin must be http(s)://HOST[:PORT] without a path, not {0:?}")]
    AllowedOrigin(String),
}

/// Everything the server needs to run.
#[derive(Clone, PartialEq, Eq)]
pub struct Config {
    /// Without a trailing slash.
    pub edge_url: String,
    pub listen: SocketAddr,
    pub secret_key: String,
    pub merchant_id: String,
    pub allowed_origin: String,
    /// The secret key's mode: approval tokens must say the same.
    pub livemode: bool,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the secret key itself, only its mode.
        f.debug_struct("Config")
            .field("edge_url", &self.edge_url)
            .field("listen", &self.listen)
            .field("secret_key", &if self.livemode { "sk_live_…" } else { "sk_test_…" })
            .field("merchant_id", &self.merchant_id)
            .field("allowed_origin", &self.allowed_origin)
            .finish()
    }
}

impl Config {
    /// Reads `args` (without the program name), then `env` for what no flag gave.
    pub fn from_args(args: &[String], env: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let mut given: [Option<String>; SETTINGS.len()] = Default::default();
        let mut rest = args.iter();
        while let Some(arg) = rest.next() {
            if arg == "--help" || arg == "-h" {
                return Err(ConfigError::Help);
            }
            let (flag, inline) = match arg.split_once('=') {
                Some((flag, value)) => (flag, Some(value.to_owned())),
                None => (arg.as_str(), None),
            };
            let Some(index) = SETTINGS.iter().position(|(name, _)| *name == flag) else {
                return Err(ConfigError::UnknownArgument(arg.clone()));
            };
            let value = match inline {
                Some(value) => value,
                None => rest
                    .next()
                    .cloned()
                    .ok_or(ConfigError::MissingValue(SETTINGS[index].0))?,
            };
            given[index] = Some(value);
        }
        let [edge, listen, secret_key, merchant_id, origin] = given;
        let pick = |value: Option<String>, index: usize, default: &str| {
            value
                .filter(|v| !v.is_empty())
                .or_else(|| env(SETTINGS[index].1).filter(|v| !v.is_empty()))
                .unwrap_or_else(|| default.to_owned())
        };
        let edge_url = edge_url(&pick(edge, 0, DEFAULT_EDGE_URL))?;
        let listen = listen_address(&pick(listen, 1, DEFAULT_LISTEN))?;
        let secret_key = pick(secret_key, 2, DEFAULT_SECRET_KEY);
        let livemode = key_mode(&secret_key)?;
        let merchant_id = pick(merchant_id, 3, DEFAULT_MERCHANT_ID);
        if merchant_id.is_empty() || merchant_id.len() > 64 || !merchant_id.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(ConfigError::MerchantId(merchant_id));
        }
        let allowed_origin = origin_of(&pick(origin, 4, DEFAULT_ALLOWED_ORIGIN))?;
        Ok(Self {
            edge_url,
            listen,
            secret_key,
            merchant_id,
            allowed_origin,
            livemode,
        })
    }
}

/// `http://host[:port]`, a trailing slash dropped.
fn edge_url(text: &str) -> Result<String, ConfigError> {
    let trimmed = text.strip_suffix('/').unwrap_or(text);
    match trimmed.strip_prefix("http://") {
        Some(authority) if is_authority(authority) => Ok(trimmed.to_owned()),
        _ => Err(ConfigError::EdgeUrl(text.to_owned())),
    }
}

/// An origin as browsers send it: scheme, host and port, nothing else.
fn origin_of(text: &str) -> Result<String, ConfigError> {
    let authority = text.strip_prefix("http://").or_else(|| text.strip_prefix("https://"));
    match authority {
        Some(authority) if is_authority(authority) => Ok(text.to_owned()),
        _ => Err(ConfigError::AllowedOrigin(text.to_owned())),
    }
}

fn is_authority(text: &str) -> bool {
    !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'))
}

fn listen_address(text: &str) -> Result<SocketAddr, ConfigError> {
    match text.parse::<SocketAddr>() {
        Ok(address) if address.ip().is_loopback() => Ok(address),
        _ => Err(ConfigError::Listen(text.to_owned())),
    }
}

/// `sk_test_NAME.SECRET` → false, `sk_live_NAME.SECRET` → true.
fn key_mode(key: &str) -> Result<bool, ConfigError> {
    let (livemode, rest) = match (key.strip_prefix("sk_test_"), key.strip_prefix("sk_live_")) {
        (Some(rest), _) => (false, rest),
        (_, Some(rest)) => (true, rest),
        _ => return Err(ConfigError::SecretKey),
    };
    let well_formed = rest
        .split_once('.')
        .is_some_and(|(name, secret)| !name.is_empty() && !secret.is_empty())
        && rest.bytes().all(|b| b.is_ascii_graphic());
    if well_formed {
        Ok(livemode)
    } else {
        Err(ConfigError::SecretKey)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    fn no_env(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn defaults_are_the_local_demo() {
        let config = Config::from_args(&[], no_env).unwrap();
        assert_eq!(config.edge_url, "http://127.0.0.1:8787");
        assert_eq!(config.listen, "127.0.0.1:8790".parse().unwrap());
        assert_eq!(config.secret_key, DEFAULT_SECRET_KEY);
        assert_eq!(config.merchant_id, "m_nordic_outdoor");
        assert_eq!(config.allowed_origin, "http://127.0.0.1:8080");
        assert!(!config.livemode);
    }

    #[test]
    fn flags_win_over_the_environment_which_wins_over_defaults() {
        let env = |name: &str| match name {
            "PAYLATER_EDGE_URL" => Some("http://127.0.0.1:9000/".to_owned()),
            "PAYLATER_SECRET_KEY" => Some("sk_live_shop.abc".to_owned()),
            "MERCHANT_SERVER_LISTEN" => Some("127.0.0.1:1".to_owned()),
            _ => None,
        };
        let config = Config::from_args(
            &args(&[
                "--listen",
                "127.0.0.1:0",
                "--allowed-origin=http://127.0.0.1:41234",
                "--merchant-id",
                "m_other",
            ]),
            env,
        )
        .unwrap();
        assert_eq!(config.edge_url, "http://127.0.0.1:9000");
        assert_eq!(config.listen.port(), 0);
        assert_eq!(config.allowed_origin, "http://127.0.0.1:41234");
        assert_eq!(config.merchant_id, "m_other");
        assert!(config.livemode);
        assert!(!format!("{config:?}").contains("abc"), "Debug never shows the key");
    }

    #[test]
    fn refuses_what_it_cannot_serve_safely() {
        let refused = |list: &[&str]| Config::from_args(&args(list), no_env).unwrap_err();
        assert_eq!(refused(&["--help"]), ConfigError::Help);
        assert_eq!(refused(&["--edge"]), ConfigError::MissingValue("--edge"));
        assert!(matches!(refused(&["--port", "1"]), ConfigError::UnknownArgument(_)));
        assert!(matches!(
            refused(&["--edge", "https://edge.example"]),
            ConfigError::EdgeUrl(_)
        ));
        assert!(matches!(
            refused(&["--edge", "http://127.0.0.1:8787/v1"]),
            ConfigError::EdgeUrl(_)
        ));
        assert!(matches!(refused(&["--listen", "0.0.0.0:8790"]), ConfigError::Listen(_)));
        assert!(matches!(
            refused(&["--listen", "localhost:8790"]),
            ConfigError::Listen(_)
        ));
        assert_eq!(refused(&["--secret-key", "pk_test_demo"]), ConfigError::SecretKey);
        assert_eq!(refused(&["--secret-key", "sk_test_demo"]), ConfigError::SecretKey);
        assert!(matches!(
            refused(&["--allowed-origin", "http://127.0.0.1:8080/"]),
            ConfigError::AllowedOrigin(_)
        ));
        assert!(matches!(refused(&["--merchant-id", "a b"]), ConfigError::MerchantId(_)));
    }
}
