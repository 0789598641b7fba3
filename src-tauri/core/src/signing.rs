//! Why this exists: receivers verify that a webhook came from this station with the Standard
//! Webhooks scheme: `webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, keyed
//! with the base64 part of a `whsec_` secret.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::error::{CoreError, CoreResult};

pub const SECRET_PREFIX: &str = "whsec_";

/// A fresh `whsec_` secret with 24 random bytes.
pub fn generate_secret() -> String {
    let bytes: [u8; 24] = rand::random();
    format!("{SECRET_PREFIX}{}", B64.encode(bytes))
}

/// The `webhook-signature` header value for one message.
pub fn sign(secret: &str, msg_id: &str, timestamp_secs: i64, body: &[u8]) -> CoreResult<String> {
    let key_b64 = secret.strip_prefix(SECRET_PREFIX).unwrap_or(secret);
    let key = B64.decode(key_b64).map_err(|_| {
        CoreError::validation("The signing secret is not valid base64 after 'whsec_'.")
    })?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key)
        .map_err(|e| CoreError::internal(format!("HMAC key: {e}")))?;
    mac.update(msg_id.as_bytes());
    mac.update(b".");
    mac.update(timestamp_secs.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    Ok(format!("v1,{}", B64.encode(mac.finalize().into_bytes())))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The test vector published with the Standard Webhooks specification.
    #[test]
    fn matches_the_specification_test_vector() {
        let sig = sign(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            br#"{"test": 2432232314}"#,
        )
        .unwrap();
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn generated_secrets_differ_and_sign() {
        let a = generate_secret();
        assert!(a.starts_with("whsec_"));
        assert_ne!(a, generate_secret());
        assert!(sign(&a, "id", 1, b"{}").unwrap().starts_with("v1,"));
    }
}
