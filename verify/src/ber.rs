//! BER to DER (X.690 §8 → §10): signatures from the field are often BER — indefinite lengths
//! and constructed OCTET STRINGs from streaming encoders (Adobe, Java, some VGCA tools). The
//! RustCrypto types read DER only, so kyso normalizes first: definite minimal lengths,
//! constructed strings joined into primitive ones, SET OF elements sorted. The signed
//! attributes are re-encoded as DER for verification anyway (RFC 5652 §5.4).

/// Deepest nesting accepted.
const MAX_DEPTH: usize = 64;

#[derive(Debug)]
pub struct BerError(pub String);

fn err<T>(m: &str) -> Result<T, BerError> {
    Err(BerError(m.into()))
}

struct Tlv<'a> {
    /// Identifier octets as read.
    tag: &'a [u8],
    constructed: bool,
    /// Contents (for indefinite length: up to, not including, the end-of-contents).
    contents: &'a [u8],
    /// Total bytes consumed.
    len: usize,
}

fn read_tlv(b: &[u8]) -> Result<Tlv<'_>, BerError> {
    let first = *b.first().ok_or(BerError("truncated".into()))?;
    let mut i = 1;
    if first & 0x1f == 0x1f {
        // high tag number form
        loop {
            let x = *b.get(i).ok_or(BerError("truncated tag".into()))?;
            i += 1;
            if x & 0x80 == 0 {
                break;
            }
            if i > 6 {
                return err("tag too long");
            }
        }
    }
    let tag = &b[..i];
    let constructed = first & 0x20 != 0;
    let l0 = *b.get(i).ok_or(BerError("truncated length".into()))?;
    i += 1;
    if l0 == 0x80 {
        if !constructed {
            return err("indefinite length on a primitive value");
        }
        // Contents run until a matching end-of-contents (00 00).
        let start = i;
        let mut pos = i;
        loop {
            if b.get(pos..pos + 2) == Some(&[0, 0]) {
                return Ok(Tlv {
                    tag,
                    constructed,
                    contents: &b[start..pos],
                    len: pos + 2,
                });
            }
            let inner = read_tlv(&b[pos..])?;
            pos += inner.len;
        }
    }
    let len = if l0 & 0x80 == 0 {
        l0 as usize
    } else {
        let n = (l0 & 0x7f) as usize;
        if n > 4 {
            return err("length too long");
        }
        let bytes = b.get(i..i + n).ok_or(BerError("truncated length".into()))?;
        i += n;
        bytes.iter().fold(0usize, |a, &x| (a << 8) | x as usize)
    };
    let end = i
        .checked_add(len)
        .ok_or(BerError("length overflow".into()))?;
    let contents = b.get(i..end).ok_or(BerError("truncated contents".into()))?;
    Ok(Tlv {
        tag,
        constructed,
        contents,
        len: end,
    })
}

fn write_len(out: &mut Vec<u8>, n: usize) {
    if n < 0x80 {
        out.push(n as u8);
    } else {
        let bytes = n.to_be_bytes();
        let skip = bytes.iter().take_while(|&&x| x == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
}

/// Universal string types that BER lets encoders split into constructed pieces.
fn is_string_type(tag: u8) -> bool {
    matches!(tag & 0x1f, 3 | 4 | 12 | 19 | 20 | 22 | 26 | 28 | 30) && tag & 0xc0 == 0
}

fn join_pieces(b: &[u8], depth: usize, out: &mut Vec<u8>) -> Result<(), BerError> {
    if depth > MAX_DEPTH {
        return err("nested too deeply");
    }
    let mut pos = 0;
    while pos < b.len() {
        let t = read_tlv(&b[pos..])?;
        if t.constructed {
            join_pieces(t.contents, depth + 1, out)?;
        } else {
            out.extend_from_slice(t.contents);
        }
        pos += t.len;
    }
    Ok(())
}

fn convert(b: &[u8], depth: usize, out: &mut Vec<u8>) -> Result<usize, BerError> {
    if depth > MAX_DEPTH {
        return err("nested too deeply");
    }
    let t = read_tlv(b)?;
    if !t.constructed {
        out.extend_from_slice(t.tag);
        write_len(out, t.contents.len());
        out.extend_from_slice(t.contents);
        return Ok(t.len);
    }
    let first = t.tag[0];
    if t.tag.len() == 1 && is_string_type(first) {
        let mut joined = Vec::new();
        join_pieces(t.contents, depth + 1, &mut joined)?;
        out.push(first & !0x20);
        write_len(out, joined.len());
        out.extend_from_slice(&joined);
        return Ok(t.len);
    }
    let mut children: Vec<Vec<u8>> = Vec::new();
    let mut pos = 0;
    while pos < t.contents.len() {
        let mut c = Vec::new();
        pos += convert(&t.contents[pos..], depth + 1, &mut c)?;
        children.push(c);
    }
    if t.tag == [0x31] {
        children.sort();
    }
    let body: usize = children.iter().map(Vec::len).sum();
    out.extend_from_slice(t.tag);
    write_len(out, body);
    for c in children {
        out.extend_from_slice(&c);
    }
    Ok(t.len)
}

/// DER for the first element of `b` (trailing bytes, such as PDF zero padding, are ignored).
pub fn to_der(b: &[u8]) -> Result<Vec<u8>, BerError> {
    let mut out = Vec::with_capacity(b.len());
    convert(b, 0, &mut out)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indefinite_lengths_and_constructed_strings_become_der() {
        // SEQUENCE (indef) { OCTET STRING constructed (indef) { 04 01 aa, 04 02 bb cc }, INTEGER 5 }
        let ber = [
            0x30, 0x80, 0x24, 0x80, 0x04, 0x01, 0xaa, 0x04, 0x02, 0xbb, 0xcc, 0x00, 0x00, 0x02,
            0x01, 0x05, 0x00, 0x00, 0xff, 0xff,
        ];
        let der = to_der(&ber).unwrap();
        assert_eq!(
            der,
            [0x30, 0x08, 0x04, 0x03, 0xaa, 0xbb, 0xcc, 0x02, 0x01, 0x05]
        );
    }

    #[test]
    fn sets_are_sorted_and_der_stays_der() {
        let set = [0x31, 0x06, 0x02, 0x01, 0x09, 0x02, 0x01, 0x03];
        assert_eq!(
            to_der(&set).unwrap(),
            [0x31, 0x06, 0x02, 0x01, 0x03, 0x02, 0x01, 0x09]
        );
        let der = [0x30, 0x03, 0x02, 0x01, 0x07];
        assert_eq!(to_der(&der).unwrap(), der);
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        for bad in [
            &[][..],
            &[0x30],
            &[0x30, 0x80],
            &[0x04, 0x80, 0x00, 0x00],
            &[0x30, 0x85, 1, 1, 1, 1, 1],
            &[0x30, 0x05, 0x02],
        ] {
            assert!(to_der(bad).is_err(), "{bad:?}");
        }
        let deep: Vec<u8> = std::iter::repeat_n([0x30, 0x80], 200).flatten().collect();
        assert!(to_der(&deep).is_err());
    }
}
