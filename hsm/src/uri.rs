//! PKCS#11 URIs, RFC 7512.
//!
//! ```text
//! pk11-URI  = "pkcs11:" pk11-path [ "?" pk11-query ]        ; §2.3
//! pk11-path = [ pk11-pattr *(";" pk11-pattr) ]
//! pk11-query = [ pk11-qattr *("&" pk11-qattr) ]
//! ```
//!
//! kyso understands the token, slot, object and module attributes. `pin-value` is refused on
//! purpose: a PIN in a URI ends up on command lines and in shell history, and kyso never takes a
//! PIN from argv. Unknown path attributes are refused too (§2.3 allows vendor `x-` attributes,
//! which are kept and ignored), so that a typo never silently widens the match.

use crate::error::{HsmError, Result};
use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, CONTROLS};
use std::fmt;

/// The object class a URI asks for (`type=`, §2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ObjectType {
    Private,
    Public,
    Cert,
    SecretKey,
    Data,
}

impl ObjectType {
    fn parse(s: &str) -> Result<Self> {
        Ok(match s {
            "private" => ObjectType::Private,
            "public" => ObjectType::Public,
            "cert" => ObjectType::Cert,
            "secret-key" => ObjectType::SecretKey,
            "data" => ObjectType::Data,
            other => return Err(HsmError::BadUri(format!("unknown type={other:?}"))),
        })
    }

    fn as_str(self) -> &'static str {
        match self {
            ObjectType::Private => "private",
            ObjectType::Public => "public",
            ObjectType::Cert => "cert",
            ObjectType::SecretKey => "secret-key",
            ObjectType::Data => "data",
        }
    }
}

/// A parsed PKCS#11 URI. Absent attributes match anything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pkcs11Uri {
    /// `token` — CK_TOKEN_INFO.label
    pub token: Option<String>,
    /// `manufacturer` — CK_TOKEN_INFO.manufacturerID
    pub manufacturer: Option<String>,
    /// `model` — CK_TOKEN_INFO.model
    pub model: Option<String>,
    /// `serial` — CK_TOKEN_INFO.serialNumber
    pub serial: Option<String>,
    /// `slot-id` — CK_SLOT_ID
    pub slot_id: Option<u64>,
    /// `slot-description` — CK_SLOT_INFO.slotDescription
    pub slot_description: Option<String>,
    /// `slot-manufacturer` — CK_SLOT_INFO.manufacturerID
    pub slot_manufacturer: Option<String>,
    /// `library-manufacturer` — CK_INFO.manufacturerID
    pub library_manufacturer: Option<String>,
    /// `library-description` — CK_INFO.libraryDescription
    pub library_description: Option<String>,
    /// `library-version` — CK_INFO.libraryVersion (major, minor): `2.6`, or `2` for 2.0 (as
    /// p11-kit reads it; matched exactly)
    pub library_version: Option<(u8, u8)>,
    /// `object` — CKA_LABEL
    pub object: Option<String>,
    /// `id` — CKA_ID, raw bytes (percent-encoded in the URI)
    pub id: Option<Vec<u8>>,
    /// `type` — CKA_CLASS
    pub object_type: Option<ObjectType>,
    /// `module-path` query attribute (§2.4)
    pub module_path: Option<String>,
    /// `module-name` query attribute (§2.4)
    pub module_name: Option<String>,
    /// `pin-source` query attribute (§2.4): a file path or `file:` URI holding the PIN
    pub pin_source: Option<String>,
}

const PIN_VALUE_REFUSED: &str = "pin-value is refused: a PIN must not appear in a URI or on a command line; use pin-source, --pin-file or KYSO_PIN";

impl Pkcs11Uri {
    /// Parse a URI of RFC 7512 form.
    pub fn parse(s: &str) -> Result<Self> {
        let s = s.trim();
        // A PIN in the URI is refused before anything of the URI is read, so that no later
        // error (a bad percent-escape, a mistyped scheme) can echo it.
        // In any case: `PIN-VALUE=…` under a mistyped scheme was echoed whole.
        if s.split(['?', ';', '&', ':']).any(|a| {
            a.split('=')
                .next()
                .is_some_and(|k| k.trim().eq_ignore_ascii_case("pin-value"))
        }) {
            return Err(HsmError::BadUri(PIN_VALUE_REFUSED.into()));
        }
        let rest = match s.get(..7) {
            Some(scheme) if scheme.eq_ignore_ascii_case("pkcs11:") => &s[7..],
            _ => {
                return Err(HsmError::BadUri(format!(
                    "{s:?} does not start with \"pkcs11:\""
                )))
            }
        };
        let (path, query) = match rest.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (rest, None),
        };
        let mut uri = Pkcs11Uri::default();
        for attr in path.split(';').filter(|a| !a.is_empty()) {
            let (name, raw) = attr
                .split_once('=')
                .ok_or_else(|| HsmError::BadUri(format!("path attribute {attr:?} has no '='")))?;
            let bytes = decode(raw)?;
            let text = || {
                String::from_utf8(bytes.clone())
                    .map_err(|_| HsmError::BadUri(format!("{name} is not UTF-8")))
            };
            match name {
                "token" => set(&mut uri.token, name, text()?)?,
                "manufacturer" => set(&mut uri.manufacturer, name, text()?)?,
                "model" => set(&mut uri.model, name, text()?)?,
                "serial" => set(&mut uri.serial, name, text()?)?,
                "slot-description" => set(&mut uri.slot_description, name, text()?)?,
                "slot-id" => {
                    let v = text()?.parse::<u64>().map_err(|_| {
                        HsmError::BadUri(format!("slot-id={raw:?} is not a number"))
                    })?;
                    set(&mut uri.slot_id, name, v)?
                }
                "object" => set(&mut uri.object, name, text()?)?,
                "id" => set(&mut uri.id, name, bytes)?,
                "type" => set(&mut uri.object_type, name, ObjectType::parse(&text()?)?)?,
                "slot-manufacturer" => set(&mut uri.slot_manufacturer, name, text()?)?,
                "library-manufacturer" => set(&mut uri.library_manufacturer, name, text()?)?,
                "library-description" => set(&mut uri.library_description, name, text()?)?,
                "library-version" => {
                    let v = text()?;
                    let num = |s: &str| {
                        s.parse::<u8>().ok().filter(|_| s.bytes().all(|b| b.is_ascii_digit()))
                    };
                    let parsed = match v.split_once('.') {
                        None => num(&v).map(|m| (m, 0)),
                        Some((major, minor)) => num(major).zip(num(minor)),
                    }
                    .ok_or_else(|| {
                        HsmError::BadUri(format!(
                            "library-version={v:?}: a version is MAJOR or MAJOR.MINOR (RFC 7512 §2.3)"
                        ))
                    })?;
                    set(&mut uri.library_version, name, parsed)?
                }
                n if n.starts_with("x-") => {}
                "pin-value" => return Err(HsmError::BadUri(PIN_VALUE_REFUSED.into())),
                // RFC 7512 puts these after '?': say so rather than "unknown".
                q @ ("pin-source" | "module-path" | "module-name") => {
                    return Err(HsmError::BadUri(format!(
                        "{q} is a query attribute: write it after '?' (pkcs11:token=…;object=…?{q}=…)"
                    )))
                }
                other => {
                    return Err(HsmError::BadUri(format!(
                        "unknown path attribute {other:?}"
                    )))
                }
            }
        }
        for attr in query
            .into_iter()
            .flat_map(|q| q.split('&'))
            .filter(|a| !a.is_empty())
        {
            let (name, raw) = attr
                .split_once('=')
                .ok_or_else(|| HsmError::BadUri(format!("query attribute {attr:?} has no '='")))?;
            let value = String::from_utf8(decode(raw)?)
                .map_err(|_| HsmError::BadUri(format!("{name} is not UTF-8")))?;
            match name {
                "module-path" => set(&mut uri.module_path, name, value)?,
                // A name, looked up in the module directories (RFC 7512 §2.4): a path in it
                // reached out of them (`../../tmp/evil`; helper 176). A path is module-path.
                "module-name" if value.contains('/') || value.starts_with('.') => {
                    return Err(HsmError::BadUri(format!(
                        "module-name {:?} is a path, not a name; give a path as module-path",
                        value
                    )))
                }
                "module-name" => set(&mut uri.module_name, name, value)?,
                "pin-source" => set(&mut uri.pin_source, name, value)?,
                "pin-value" => return Err(HsmError::BadUri(PIN_VALUE_REFUSED.into())),
                n if n.starts_with("x-") => {}
                other => {
                    return Err(HsmError::BadUri(format!(
                        "unknown query attribute {other:?}"
                    )))
                }
            }
        }
        Ok(uri)
    }

    /// The same URI with only the token-selecting attributes (what a slot must match).
    pub fn token_only(&self) -> Pkcs11Uri {
        Pkcs11Uri {
            token: self.token.clone(),
            manufacturer: self.manufacturer.clone(),
            model: self.model.clone(),
            serial: self.serial.clone(),
            slot_id: self.slot_id,
            slot_description: self.slot_description.clone(),
            slot_manufacturer: self.slot_manufacturer.clone(),
            library_manufacturer: self.library_manufacturer.clone(),
            library_description: self.library_description.clone(),
            library_version: self.library_version,
            ..Default::default()
        }
    }

    /// Does this token (its label, manufacturer, model and serial; its slot's; its module's)
    /// match?
    pub fn matches_token(&self, t: &crate::TokenDescription) -> bool {
        fn eq(want: &Option<String>, have: &str) -> bool {
            want.as_deref().is_none_or(|w| w == have)
        }
        eq(&self.token, &t.label)
            && eq(&self.manufacturer, &t.manufacturer)
            && eq(&self.model, &t.model)
            && eq(&self.serial, &t.serial)
            && self.slot_id.is_none_or(|s| s == t.slot_id)
            && eq(&self.slot_description, &t.slot_description)
            && eq(&self.slot_manufacturer, &t.slot_manufacturer)
            && eq(&self.library_manufacturer, &t.library.manufacturer)
            && eq(&self.library_description, &t.library.description)
            && self.library_version.is_none_or(|v| v == t.library.version)
    }
}

fn set<T>(slot: &mut Option<T>, name: &str, v: T) -> Result<()> {
    if slot.is_some() {
        return Err(HsmError::BadUri(format!("attribute {name} given twice")));
    }
    *slot = Some(v);
    Ok(())
}

fn decode(raw: &str) -> Result<Vec<u8>> {
    // percent_decode leaves malformed escapes as they are; RFC 3986 says they are errors.
    let b = raw.as_bytes();
    for (i, &c) in b.iter().enumerate() {
        if c == b'%'
            && !(b.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                && b.get(i + 2).is_some_and(u8::is_ascii_hexdigit))
        {
            return Err(HsmError::BadUri(format!("bad percent-escape in {raw:?}")));
        }
    }
    Ok(percent_decode_str(raw).collect())
}

/// Characters escaped in attribute values: everything but RFC 3986 unreserved and the
/// pk11-res-avail characters that are safe in both path and query (§2.3).
const VALUE: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'&')
    .add(b'/')
    .add(b';')
    .add(b'<')
    .add(b'>')
    .add(b'=')
    .add(b'?')
    .add(b'[')
    .add(b'\\')
    .add(b']')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'|')
    .add(b'}')
    .add(b'+')
    .add(b',');

/// In query values `/`, `:` and `?` may stand as they are (pk11-qchar, §2.3).
const QUERY_VALUE: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'&')
    .add(b';')
    .add(b'<')
    .add(b'>')
    .add(b'[')
    .add(b'\\')
    .add(b']')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'}');

impl fmt::Display for Pkcs11Uri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = |name: &str, v: &Option<String>| {
            v.as_ref()
                .map(|v| format!("{name}={}", utf8_percent_encode(v, VALUE)))
        };
        let path: Vec<String> = [
            text("token", &self.token),
            text("manufacturer", &self.manufacturer),
            text("model", &self.model),
            text("serial", &self.serial),
            text("slot-description", &self.slot_description),
            self.slot_id.map(|s| format!("slot-id={s}")),
            text("slot-manufacturer", &self.slot_manufacturer),
            text("library-manufacturer", &self.library_manufacturer),
            text("library-description", &self.library_description),
            self.library_version
                .map(|(major, minor)| format!("library-version={major}.{minor}")),
            text("object", &self.object),
            self.id.as_ref().map(|id| {
                let enc: String = id.iter().map(|b| format!("%{b:02X}")).collect();
                format!("id={enc}")
            }),
            self.object_type.map(|t| format!("type={}", t.as_str())),
        ]
        .into_iter()
        .flatten()
        .collect();
        write!(f, "pkcs11:{}", path.join(";"))?;
        let mut query: Vec<String> = Vec::new();
        for (name, v) in [
            ("module-name", &self.module_name),
            ("module-path", &self.module_path),
            ("pin-source", &self.pin_source),
        ] {
            if let Some(v) = v {
                query.push(format!("{name}={}", utf8_percent_encode(v, QUERY_VALUE)));
            }
        }
        if !query.is_empty() {
            write!(f, "?{}", query.join("&"))?;
        }
        Ok(())
    }
}

impl std::str::FromStr for Pkcs11Uri {
    type Err = HsmError;
    fn from_str(s: &str) -> Result<Self> {
        Pkcs11Uri::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7512's slot-manufacturer and library-* attributes are read (they were accepted and
    /// ignored: a URI naming another module's library matched), written back, and a version
    /// that is not MAJOR or MAJOR.MINOR is refused.
    #[test]
    fn library_and_slot_attributes_are_read_and_written_back() {
        let text = "pkcs11:token=kyso-dev;slot-manufacturer=SoftHSM%20project;library-manufacturer=SoftHSM;library-description=Implementation%20of%20PKCS11;library-version=2.6";
        let u = Pkcs11Uri::parse(text).unwrap();
        assert_eq!(u.slot_manufacturer.as_deref(), Some("SoftHSM project"));
        assert_eq!(u.library_manufacturer.as_deref(), Some("SoftHSM"));
        assert_eq!(
            u.library_description.as_deref(),
            Some("Implementation of PKCS11")
        );
        assert_eq!(u.library_version, Some((2, 6)));
        assert_eq!(Pkcs11Uri::parse(&u.to_string()).unwrap(), u);
        assert_eq!(u.token_only().library_version, Some((2, 6)));
        // A major alone is that major's .0 (p11-kit reads it so), not any minor.
        let u = Pkcs11Uri::parse("pkcs11:library-version=3").unwrap();
        assert_eq!(u.library_version, Some((3, 0)));
        assert_eq!(u.to_string(), "pkcs11:library-version=3.0");
        for bad in ["2.", ".6", "2.6.1", "two", "+2", "256", ""] {
            let e = Pkcs11Uri::parse(&format!("pkcs11:library-version={bad}")).unwrap_err();
            assert!(e.to_string().contains("MAJOR or MAJOR.MINOR"), "{bad}: {e}");
        }
    }

    #[test]
    fn rfc7512_examples_parse() {
        // Examples from RFC 7512 §3.
        let u = Pkcs11Uri::parse(
            "pkcs11:token=The%20Software%20PKCS%2311%20Softtoken;manufacturer=Snake%20Oil,%20Inc.;model=1.0;object=my-certificate;type=cert;id=%69%95%3E%5C%F4%BD%EC%91;serial=",
        )
        .unwrap();
        assert_eq!(u.token.as_deref(), Some("The Software PKCS#11 Softtoken"));
        assert_eq!(u.manufacturer.as_deref(), Some("Snake Oil, Inc."));
        assert_eq!(u.object_type, Some(ObjectType::Cert));
        assert_eq!(
            u.id.as_deref(),
            Some(&[0x69, 0x95, 0x3e, 0x5c, 0xf4, 0xbd, 0xec, 0x91][..])
        );
        assert_eq!(u.serial.as_deref(), Some(""));

        let u = Pkcs11Uri::parse("pkcs11:object=my-sign-key;type=private?module-name=mypkcs11")
            .unwrap();
        assert_eq!(u.module_name.as_deref(), Some("mypkcs11"));
        let u = Pkcs11Uri::parse(
            "pkcs11:token=Software%20PKCS%2311%20softtoken;manufacturer=Snake%20Oil,%20Inc.?pin-source=file:/etc/token",
        )
        .unwrap();
        assert_eq!(u.pin_source.as_deref(), Some("file:/etc/token"));
        let u = Pkcs11Uri::parse("pkcs11:").unwrap();
        assert_eq!(u, Pkcs11Uri::default());
        let u = Pkcs11Uri::parse("pkcs11:slot-description=Sun%20Metaslot;x-vendor=1").unwrap();
        assert_eq!(u.slot_description.as_deref(), Some("Sun Metaslot"));
    }

    #[test]
    fn printing_then_parsing_gives_the_same_uri() {
        let u = Pkcs11Uri {
            token: Some("kyso dev;1".into()),
            object: Some("signer/rsa".into()),
            id: Some(vec![0, 1, 0xff]),
            object_type: Some(ObjectType::Private),
            slot_id: Some(7),
            module_path: Some("/usr/lib/softhsm/libsofthsm2.so".into()),
            pin_source: Some("/run/kyso/pin".into()),
            ..Default::default()
        };
        let s = u.to_string();
        assert_eq!(
            s,
            "pkcs11:token=kyso%20dev%3B1;slot-id=7;object=signer%2Frsa;id=%00%01%FF;type=private\
             ?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=/run/kyso/pin"
        );
        assert_eq!(Pkcs11Uri::parse(&s).unwrap(), u);
    }

    #[test]
    fn pin_value_and_unknown_attributes_are_refused() {
        for bad in [
            "pkcs11:token=a?pin-value=1234",
            "pkcs11:tokn=a",
            "pkcs11:token=a;token=b",
            "pkcs11:type=bogus",
            "pkcs11:id=%zz",
            "pkcs11:id=%4",
            "pkcs11:slot-id=x",
            "pkcs12:token=a",
            "pkcs11:token",
            "",
        ] {
            let e = Pkcs11Uri::parse(bad).unwrap_err();
            assert!(matches!(e, HsmError::BadUri(_)), "{bad}: {e}");
            assert!(!e.to_string().contains("1234"), "PIN echoed in {e}");
        }
        // In the path instead of the query: pin-value still refused as such, the PIN not
        // echoed; pin-source and module-path named as query attributes.
        // Nor echoed by any other error the URI has: a bad escape in the PIN, a mistyped
        // scheme.
        for bad in [
            "pkcs11:token=a;pin-value=1234",
            "pkcs12:token=a;PIN-VALUE=1234",
            "pkcs11:token=a;pin-value=12%zz34",
            "pkcs11:token=a?pin-value=12%zz34",
            "pkcs12:token=a?pin-value=1234",
            "pkcs11:token=a?module-path=%zz&pin-value=1234",
        ] {
            let e = Pkcs11Uri::parse(bad).unwrap_err();
            assert!(e.to_string().contains("pin-value is refused"), "{e}");
            assert!(!e.to_string().contains("1234"), "PIN echoed in {e}");
        }
        for q in ["pin-source", "module-path", "module-name"] {
            let e = Pkcs11Uri::parse(&format!("pkcs11:token=a;{q}=/x")).unwrap_err();
            assert!(
                e.to_string()
                    .contains(&format!("{q} is a query attribute: write it after '?'")),
                "{e}"
            );
        }
    }
}
