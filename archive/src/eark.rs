//! E-ARK CSIP 2.x information packages (Circular 05/2025/TT-BNV asks for them): the same
//! payload as the BagIt export, inside the CSIP structure, with a METS root, PREMIS v3
//! preservation metadata (SHA-256 fixity of every file; ingest, validation and transfer
//! events) and the circular's descriptive metadata, zipped.
//!
//! ```text
//! <OBJID>/METS.xml                                   mets@OBJID, metsHdr@csip:OAISPACKAGETYPE="SIP"
//! <OBJID>/metadata/descriptive/tt05-2025.xml         fonds, dossiers and documents (docs/export.md)
//! <OBJID>/metadata/preservation/premis.xml           PREMIS v3: objects with SHA-256 fixity, events
//! <OBJID>/metadata/preservation/manifest-sha256.txt  and -sha512.txt: the payload digests (as BagIt)
//! <OBJID>/representations/rep1/data/…                the payload: log/, records/<id>/, evidence/
//! ```
//!
//! Everything is written streaming: METS and PREMIS are generated from the manifest and from
//! the records' `metadata.json`, one line or one record at a time.

use crate::error::{ArchiveError, Result};
use crate::model::Record;
use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::Path;

/// The payload's place inside the package root.
pub const PAYLOAD: &str = "representations/rep1/data";
/// Where the payload manifests are kept.
pub const MANIFESTS: &str = "metadata/preservation";

fn io(what: &str, p: &Path, e: std::io::Error) -> ArchiveError {
    ArchiveError::Db(format!("{what} {}: {e}", p.display()))
}

/// XML text or attribute value, escaped.
pub(crate) fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&apos;"),
            c if (c as u32) < 0x20 && c != '\t' && c != '\n' && c != '\r' => {}
            c => o.push(c),
        }
    }
    o
}

/// The IANA media type of a payload file, by its name.
pub fn media_type(path: &str) -> &'static str {
    let name = path.rsplit('/').next().unwrap_or(path);
    if name.starts_with("certificate-") {
        "application/pkix-cert"
    } else if name.starts_with("crl-") {
        "application/pkix-crl"
    } else if name.starts_with("ocsp-") {
        "application/ocsp-response"
    } else if name.ends_with(".pdf") {
        "application/pdf"
    } else if name.ends_with(".p7m") {
        "application/pkcs7-mime"
    } else if name.ends_with(".p7s") {
        "application/pkcs7-signature"
    } else if name.ends_with(".json") {
        "application/json"
    } else if name.ends_with(".tsr") {
        "application/vnd.etsi.timestamp-token"
    } else if name.ends_with(".txt") || name.ends_with(".pem") {
        "text/plain"
    } else if name.ends_with(".xml") {
        "text/xml"
    } else {
        "application/octet-stream"
    }
}

/// Each manifest line: (digest, path relative to the package root).
fn manifest_lines(p: &Path) -> Result<impl Iterator<Item = (String, String)>> {
    let f = File::open(p).map_err(|e| io("open", p, e))?;
    Ok(BufReader::new(f)
        .lines()
        .map_while(|l| l.ok())
        .filter_map(|l| {
            l.split_once("  ")
                .map(|(d, p)| (d.to_string(), p.to_string()))
        }))
}

fn now() -> String {
    kyso_verify::rfc3339(std::time::SystemTime::now())
}

struct Ctx<'a> {
    root: &'a Path,
    ids: &'a [u64],
    created: String,
}

impl Ctx<'_> {
    fn record(&self, id: u64) -> Result<Record> {
        let p = self
            .root
            .join(PAYLOAD)
            .join(format!("records/{id}/metadata.json"));
        let b = fs::read(&p).map_err(|e| io("read", &p, e))?;
        serde_json::from_slice(&b)
            .map_err(|e| ArchiveError::Inconsistent(format!("{}: {e}", p.display())))
    }
}

/// Circular 05/2025/TT-BNV descriptive metadata: the fonds, the dossiers (the records' `dossier`),
/// and one entry per document, with the fields the record has (docs/export.md lists each).
fn write_descriptive(c: &Ctx, organization: &str) -> Result<()> {
    let p = c.root.join("metadata/descriptive/tt05-2025.xml");
    let mut w = BufWriter::new(File::create(&p).map_err(|e| io("create", &p, e))?);
    // The dossiers and the documents' time span: one pass, one record at a time.
    let mut dossiers: BTreeMap<String, (u64, String, String)> = BTreeMap::new();
    let (mut first, mut last) = (String::new(), String::new());
    for &id in c.ids {
        let r = c.record(id)?;
        let date = r
            .issue_date
            .clone()
            .unwrap_or_else(|| r.ingest_time[..10].to_string());
        if first.is_empty() || date < first {
            first = date.clone();
        }
        if date > last {
            last = date.clone();
        }
        if let Some(d) = &r.dossier {
            let e = dossiers
                .entry(d.clone())
                .or_insert((0, date.clone(), date.clone()));
            e.0 += 1;
            if date < e.1 {
                e.1 = date.clone();
            }
            if date > e.2 {
                e.2 = date;
            }
        }
    }
    let mut out = String::new();
    out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out.push_str("<duLieuLuuTru xmlns=\"urn:kyso:tt05-2025-tt-bnv\" thongTu=\"05/2025/TT-BNV\">\n");
    out.push_str(&format!(
        "  <phong>\n    <tenPhong>{}</tenPhong>\n    <thoiGianTaiLieu>{} – {}</thoiGianTaiLieu>\n    <tongSoTaiLieu>{}</tongSoTaiLieu>\n  </phong>\n",
        esc(organization),
        esc(&first),
        esc(&last),
        c.ids.len()
    ));
    for (d, (n, from, to)) in &dossiers {
        out.push_str(&format!(
            "  <hoSo>\n    <maHoSo>{}</maHoSo>\n    <thoiGianBatDau>{}</thoiGianBatDau>\n    <thoiGianKetThuc>{}</thoiGianKetThuc>\n    <tongSoTaiLieu>{n}</tongSoTaiLieu>\n  </hoSo>\n",
            esc(d),
            esc(from),
            esc(to)
        ));
    }
    w.write_all(out.as_bytes())
        .map_err(|e| io("write", &p, e))?;
    for &id in c.ids {
        let r = c.record(id)?;
        let mut t = String::new();
        t.push_str("  <taiLieu>\n");
        let mut field = |name: &str, v: Option<&str>| {
            if let Some(v) = v {
                t.push_str(&format!("    <{name}>{}</{name}>\n", esc(v)));
            }
        };
        field("maDinhDanh", Some(&format!("{}#{}", r.code, r.id)));
        field("maHoSo", r.dossier.as_deref());
        field("tenLoaiTaiLieu", Some(&r.doc_type));
        field("trichYeuNoiDung", r.title.as_deref());
        field("ngayThangNam", r.issue_date.as_deref());
        field("coQuanBanHanh", r.agency.as_deref());
        field("thuTucHanhChinh", r.procedure.as_deref());
        field("chuTheDuLieu", Some(&r.subject));
        for s in &r.signatures {
            field("nguoiKy", Some(&s.signer));
        }
        for (k, v) in &r.meta {
            t.push_str(&format!(
                "    <truongKhac ten=\"{}\">{}</truongKhac>\n",
                esc(k),
                esc(v)
            ));
        }
        t.push_str(&format!(
            "    <tepTin duongDan=\"{PAYLOAD}/records/{}/{}\" dinhDang=\"{}\" kichThuoc=\"{}\" sha256=\"{}\"/>\n  </taiLieu>\n",
            r.id,
            crate::bag::document_name(&r.media_type),
            esc(&r.media_type),
            r.size,
            r.content_sha256
        ));
        w.write_all(t.as_bytes()).map_err(|e| io("write", &p, e))?;
    }
    w.write_all(b"</duLieuLuuTru>\n")
        .and_then(|()| w.flush())
        .map_err(|e| io("write", &p, e))
}

/// PREMIS v3: every payload file with its SHA-256 fixity, size and format; per record its
/// ingest and signature-validation events; the transfer (this export).
fn write_premis(c: &Ctx, user: &str, reason: &str) -> Result<()> {
    let p = c.root.join("metadata/preservation/premis.xml");
    let mut w = BufWriter::new(File::create(&p).map_err(|e| io("create", &p, e))?);
    let mut put = |s: String| w.write_all(s.as_bytes());
    let ioe = |e| io("write", &p, e);
    put("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<premis:premis xmlns:premis=\"http://www.loc.gov/premis/v3\" version=\"3.0\">\n".into()).map_err(ioe)?;
    for (sha, path) in manifest_lines(&c.root.join(MANIFESTS).join("manifest-sha256.txt"))? {
        let size = fs::metadata(c.root.join(&path))
            .map(|m| m.len())
            .unwrap_or(0);
        put(format!(
            "  <premis:object xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:type=\"premis:file\">\n    <premis:objectIdentifier><premis:objectIdentifierType>local</premis:objectIdentifierType><premis:objectIdentifierValue>{}</premis:objectIdentifierValue></premis:objectIdentifier>\n    <premis:objectCharacteristics><premis:compositionLevel>0</premis:compositionLevel><premis:fixity><premis:messageDigestAlgorithm>SHA-256</premis:messageDigestAlgorithm><premis:messageDigest>{sha}</premis:messageDigest></premis:fixity><premis:size>{size}</premis:size><premis:format><premis:formatDesignation><premis:formatName>{}</premis:formatName></premis:formatDesignation></premis:format></premis:objectCharacteristics>\n  </premis:object>\n",
            esc(&path),
            media_type(&path)
        ))
        .map_err(ioe)?;
    }
    let event = |id: &str,
                 kind: &str,
                 time: &str,
                 detail: &str,
                 outcome: &str,
                 agent: &str,
                 object: Option<&str>| {
        format!(
            "  <premis:event>\n    <premis:eventIdentifier><premis:eventIdentifierType>local</premis:eventIdentifierType><premis:eventIdentifierValue>{}</premis:eventIdentifierValue></premis:eventIdentifier>\n    <premis:eventType>{kind}</premis:eventType>\n    <premis:eventDateTime>{}</premis:eventDateTime>\n    <premis:eventDetailInformation><premis:eventDetail>{}</premis:eventDetail></premis:eventDetailInformation>\n    <premis:eventOutcomeInformation><premis:eventOutcome>{}</premis:eventOutcome></premis:eventOutcomeInformation>\n    <premis:linkingAgentIdentifier><premis:linkingAgentIdentifierType>local</premis:linkingAgentIdentifierType><premis:linkingAgentIdentifierValue>{}</premis:linkingAgentIdentifierValue></premis:linkingAgentIdentifier>\n{}  </premis:event>\n",
            esc(id),
            esc(time),
            esc(detail),
            esc(outcome),
            esc(agent),
            object
                .map(|o| format!("    <premis:linkingObjectIdentifier><premis:linkingObjectIdentifierType>local</premis:linkingObjectIdentifierType><premis:linkingObjectIdentifierValue>{}</premis:linkingObjectIdentifierValue></premis:linkingObjectIdentifier>\n", esc(o)))
                .unwrap_or_default()
        )
    };
    for &id in c.ids {
        let r = c.record(id)?;
        let doc = format!(
            "{PAYLOAD}/records/{id}/{}",
            crate::bag::document_name(&r.media_type)
        );
        put(event(
            &format!("ingest-{id}"),
            "ingestion",
            &r.ingest_time,
            &format!("record {id} ({}) archived at log entry {}", r.code, r.leaf),
            "success",
            &r.ingest_user,
            Some(&doc),
        ))
        .map_err(ioe)?;
        let indication = r
            .report
            .get("indication")
            .and_then(|v| v.as_str())
            .unwrap_or("NO_SIGNATURE");
        let detail = match &r.kept_unverified {
            Some(why) => format!(
                "signatures validated at ingest (ETSI EN 319 102-1); kept unverified: {why}"
            ),
            None => "signatures validated at ingest (ETSI EN 319 102-1)".into(),
        };
        put(event(
            &format!("validation-{id}"),
            "validation",
            r.validation_data
                .as_ref()
                .map(|v| v.gathered.as_str())
                .unwrap_or(&r.ingest_time),
            &detail,
            indication,
            "kyso",
            Some(&doc),
        ))
        .map_err(ioe)?;
    }
    put(event(
        "transfer",
        "transfer",
        &c.created,
        &format!("exported by kyso for long-term preservation: {reason}"),
        "success",
        user,
        None,
    ))
    .map_err(ioe)?;
    for (id, kind) in [(user, "person"), ("kyso", "software")] {
        put(format!(
            "  <premis:agent>\n    <premis:agentIdentifier><premis:agentIdentifierType>local</premis:agentIdentifierType><premis:agentIdentifierValue>{}</premis:agentIdentifierValue></premis:agentIdentifier>\n    <premis:agentName>{}</premis:agentName>\n    <premis:agentType>{kind}</premis:agentType>\n  </premis:agent>\n",
            esc(id),
            esc(id)
        ))
        .map_err(ioe)?;
    }
    put("</premis:premis>\n".into()).map_err(ioe)?;
    w.flush().map_err(|e| io("write", &p, e))
}

/// The content information type of every file group (CSIP62–63: OTHER, and what it is).
const CIT: &str = "csip:CONTENTINFORMATIONTYPE=\"OTHER\" csip:OTHERCONTENTINFORMATIONTYPE=\"kyso signed records with evidence\"";

/// A fileSec entry for a file outside the payload (documentation, schemas).
fn file_entry(root: &Path, rel: &str, id: &str, created: &str) -> Result<String> {
    let (size, sha) = describe(&root.join(rel))?;
    Ok(format!(
        "      <mets:file ID=\"{id}\" MIMETYPE=\"{}\" SIZE=\"{size}\" CREATED=\"{created}\" CHECKSUM=\"{sha}\" CHECKSUMTYPE=\"SHA-256\"><mets:FLocat LOCTYPE=\"URL\" xlink:type=\"simple\" xlink:href=\"{rel}\"/></mets:file>\n",
        if rel.ends_with(".xsd") || rel.ends_with(".xml") {
            "text/xml"
        } else {
            "text/plain"
        }
    ))
}

/// documentation/README.txt: what the package is and how to check it.
const README: &str = "This E-ARK information package was exported by kyso, a signing and e-archive appliance.\n\
\n\
representations/rep1/data/records/<id>/  one archived record: the signed document, its detached\n\
    signature (if any), metadata.json (the record exactly as the archive stored it, with the\n\
    validation report made at ingest), log.json (its log events with inclusion proofs)\n\
representations/rep1/data/evidence/      certificates, CRLs and OCSP responses kept at ingest\n\
representations/rep1/data/log/           the signed checkpoint every proof leads to, its RFC 3161\n\
    time-stamp, the log key, and the export's own log events (which records, who, why)\n\
metadata/descriptive/tt05-2025.xml        descriptive metadata (Circular 05/2025/TT-BNV)\n\
metadata/preservation/premis.xml          PREMIS v3: fixity (SHA-256) of every file, events\n\
\n\
Check it offline, with the log key's certificate obtained from the archive (not from this package):\n\
    kyso bag verify PACKAGE.zip --log-key log.pem\n";

/// schemas/tt05-2025.xsd: the schema of the descriptive metadata file.
const XSD: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:kyso:tt05-2025-tt-bnv"
  xmlns="urn:kyso:tt05-2025-tt-bnv" elementFormDefault="qualified">
  <xs:element name="duLieuLuuTru">
    <xs:complexType>
      <xs:sequence>
        <xs:element name="phong">
          <xs:complexType><xs:sequence>
            <xs:element name="tenPhong" type="xs:string"/>
            <xs:element name="thoiGianTaiLieu" type="xs:string"/>
            <xs:element name="tongSoTaiLieu" type="xs:nonNegativeInteger"/>
          </xs:sequence></xs:complexType>
        </xs:element>
        <xs:element name="hoSo" minOccurs="0" maxOccurs="unbounded">
          <xs:complexType><xs:sequence>
            <xs:element name="maHoSo" type="xs:string"/>
            <xs:element name="thoiGianBatDau" type="xs:string"/>
            <xs:element name="thoiGianKetThuc" type="xs:string"/>
            <xs:element name="tongSoTaiLieu" type="xs:nonNegativeInteger"/>
          </xs:sequence></xs:complexType>
        </xs:element>
        <xs:element name="taiLieu" minOccurs="0" maxOccurs="unbounded">
          <xs:complexType><xs:sequence>
            <xs:element name="maDinhDanh" type="xs:string"/>
            <xs:element name="maHoSo" type="xs:string" minOccurs="0"/>
            <xs:element name="tenLoaiTaiLieu" type="xs:string"/>
            <xs:element name="trichYeuNoiDung" type="xs:string" minOccurs="0"/>
            <xs:element name="ngayThangNam" type="xs:date" minOccurs="0"/>
            <xs:element name="coQuanBanHanh" type="xs:string" minOccurs="0"/>
            <xs:element name="thuTucHanhChinh" type="xs:string" minOccurs="0"/>
            <xs:element name="chuTheDuLieu" type="xs:string"/>
            <xs:element name="nguoiKy" type="xs:string" minOccurs="0" maxOccurs="unbounded"/>
            <xs:element name="truongKhac" minOccurs="0" maxOccurs="unbounded">
              <xs:complexType><xs:simpleContent><xs:extension base="xs:string">
                <xs:attribute name="ten" type="xs:string" use="required"/>
              </xs:extension></xs:simpleContent></xs:complexType>
            </xs:element>
            <xs:element name="tepTin">
              <xs:complexType>
                <xs:attribute name="duongDan" type="xs:string" use="required"/>
                <xs:attribute name="dinhDang" type="xs:string" use="required"/>
                <xs:attribute name="kichThuoc" type="xs:nonNegativeInteger" use="required"/>
                <xs:attribute name="sha256" type="xs:string" use="required"/>
              </xs:complexType>
            </xs:element>
          </xs:sequence></xs:complexType>
        </xs:element>
      </xs:sequence>
      <xs:attribute name="thongTu" type="xs:string"/>
    </xs:complexType>
  </xs:element>
</xs:schema>
"#;

/// A file's digest and size, for an mdRef.
fn describe(p: &Path) -> Result<(u64, String)> {
    let b = fs::read(p).map_err(|e| io("read", p, e))?;
    Ok((
        b.len() as u64,
        hex::encode(ring::digest::digest(&ring::digest::SHA256, &b)),
    ))
}

fn md_ref(root: &Path, rel: &str, mdtype: &str, created: &str) -> Result<String> {
    let (size, sha) = describe(&root.join(rel))?;
    let kind = if mdtype == "PREMIS" {
        "MDTYPE=\"PREMIS\"".to_string()
    } else {
        format!("MDTYPE=\"OTHER\" OTHERMDTYPE=\"{mdtype}\"")
    };
    let mime = media_type(rel);
    Ok(format!(
        "<mets:mdRef LOCTYPE=\"URL\" xlink:type=\"simple\" xlink:href=\"{rel}\" {kind} MIMETYPE=\"{mime}\" SIZE=\"{size}\" CREATED=\"{created}\" CHECKSUM=\"{sha}\" CHECKSUMTYPE=\"SHA-256\"/>"
    ))
}

const METS_NS: &str = "xmlns:mets=\"http://www.loc.gov/METS/\" xmlns:xlink=\"http://www.w3.org/1999/xlink\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xmlns:csip=\"https://DILCIS.eu/XML/METS/CSIPExtensionMETS\"";

fn mets_hdr(created: &str) -> String {
    format!(
        "  <mets:metsHdr CREATEDATE=\"{created}\" LASTMODDATE=\"{created}\" RECORDSTATUS=\"NEW\" csip:OAISPACKAGETYPE=\"SIP\">\n    <mets:agent ROLE=\"CREATOR\" TYPE=\"OTHER\" OTHERTYPE=\"SOFTWARE\"><mets:name>kyso</mets:name><mets:note csip:NOTETYPE=\"SOFTWARE VERSION\">{}</mets:note></mets:agent>\n  </mets:metsHdr>\n",
        env!("CARGO_PKG_VERSION")
    )
}

/// The representation's METS: every payload file with its SHA-256 (hrefs relative to the
/// representation folder), streamed from the manifest.
fn write_rep_mets(c: &Ctx, objid: &str) -> Result<()> {
    let p = c.root.join("representations/rep1/METS.xml");
    let mut w = BufWriter::new(File::create(&p).map_err(|e| io("create", &p, e))?);
    let ioe = |e| io("write", &p, e);
    let created = &c.created;
    write!(
        w,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<mets:mets {METS_NS} OBJID=\"{}/rep1\" LABEL=\"rep1\" TYPE=\"Textual works – Digital\" csip:CONTENTINFORMATIONTYPE=\"MIXED\" PROFILE=\"https://earksip.dilcis.eu/profile/E-ARK-SIP.xml\">\n{}  <mets:fileSec ID=\"filesec-rep1\">\n    <mets:fileGrp ID=\"filegrp-data\" USE=\"Data\" {CIT}>\n",
        esc(objid),
        mets_hdr(created)
    )
    .map_err(ioe)?;
    let manifest = c.root.join(MANIFESTS).join("manifest-sha256.txt");
    let strip = "representations/rep1/";
    let mut n = 0u64;
    for (sha, path) in manifest_lines(&manifest)? {
        n += 1;
        let size = fs::metadata(c.root.join(&path))
            .map(|m| m.len())
            .unwrap_or(0);
        let href = path.strip_prefix(strip).unwrap_or(&path);
        writeln!(
            w,
            "      <mets:file ID=\"file-{n}\" MIMETYPE=\"{}\" SIZE=\"{size}\" CREATED=\"{created}\" CHECKSUM=\"{sha}\" CHECKSUMTYPE=\"SHA-256\"><mets:FLocat LOCTYPE=\"URL\" xlink:type=\"simple\" xlink:href=\"{}\"/></mets:file>",
            media_type(&path),
            esc(href)
        )
        .map_err(ioe)?;
    }
    w.write_all(
        b"    </mets:fileGrp>\n  </mets:fileSec>\n  <mets:structMap ID=\"structmap-rep1\" TYPE=\"PHYSICAL\" LABEL=\"CSIP\">\n    <mets:div ID=\"div-rep1\" LABEL=\"rep1\">\n      <mets:div ID=\"div-data\" LABEL=\"Data\"><mets:fptr FILEID=\"filegrp-data\"/></mets:div>\n    </mets:div>\n  </mets:structMap>\n</mets:mets>\n",
    )
    .and_then(|()| w.flush())
    .map_err(ioe)
}

/// The root METS (CSIP 2.1): the package's identity and type, the metadata files, the
/// documentation and schema, and the representation by its own METS.
fn write_mets(c: &Ctx, objid: &str, label: &str) -> Result<()> {
    write_rep_mets(c, objid)?;
    let p = c.root.join("METS.xml");
    let created = &c.created;
    let dmd = md_ref(
        c.root,
        "metadata/descriptive/tt05-2025.xml",
        "TT05-2025-TT-BNV",
        created,
    )?;
    let premis = md_ref(
        c.root,
        "metadata/preservation/premis.xml",
        "PREMIS",
        created,
    )?;
    let m256 = md_ref(
        c.root,
        "metadata/preservation/manifest-sha256.txt",
        "BagIt manifest SHA-256",
        created,
    )?;
    let m512 = md_ref(
        c.root,
        "metadata/preservation/manifest-sha512.txt",
        "BagIt manifest SHA-512",
        created,
    )?;
    let text = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
<mets:mets {METS_NS} OBJID=\"{}\" LABEL=\"{}\" TYPE=\"Textual works – Digital\" csip:CONTENTINFORMATIONTYPE=\"MIXED\" PROFILE=\"https://earksip.dilcis.eu/profile/E-ARK-SIP.xml\">\n\
{}\
  <mets:dmdSec ID=\"dmd-tt05\" CREATED=\"{created}\" STATUS=\"CURRENT\">{dmd}</mets:dmdSec>\n\
  <mets:amdSec>\n\
    <mets:digiprovMD ID=\"digiprov-premis\" CREATED=\"{created}\" STATUS=\"CURRENT\">{premis}</mets:digiprovMD>\n\
    <mets:digiprovMD ID=\"digiprov-manifest-sha256\" CREATED=\"{created}\" STATUS=\"CURRENT\">{m256}</mets:digiprovMD>\n\
    <mets:digiprovMD ID=\"digiprov-manifest-sha512\" CREATED=\"{created}\" STATUS=\"CURRENT\">{m512}</mets:digiprovMD>\n\
  </mets:amdSec>\n\
  <mets:fileSec ID=\"filesec\">\n\
    <mets:fileGrp ID=\"filegrp-documentation\" USE=\"Documentation\" {CIT}>\n{}    </mets:fileGrp>\n\
    <mets:fileGrp ID=\"filegrp-schemas\" USE=\"Schemas\" {CIT}>\n{}    </mets:fileGrp>\n\
    <mets:fileGrp ID=\"filegrp-rep1\" USE=\"Representations/rep1\" {CIT}>\n{}    </mets:fileGrp>\n\
  </mets:fileSec>\n\
  <mets:structMap ID=\"structmap\" TYPE=\"PHYSICAL\" LABEL=\"CSIP\">\n\
    <mets:div ID=\"div-root\" LABEL=\"{}\">\n\
      <mets:div ID=\"div-metadata\" LABEL=\"Metadata\" DMDID=\"dmd-tt05\" ADMID=\"digiprov-premis digiprov-manifest-sha256 digiprov-manifest-sha512\"/>\n\
      <mets:div ID=\"div-documentation\" LABEL=\"Documentation\"><mets:fptr FILEID=\"filegrp-documentation\"/></mets:div>\n\
      <mets:div ID=\"div-schemas\" LABEL=\"Schemas\"><mets:fptr FILEID=\"filegrp-schemas\"/></mets:div>\n\
      <mets:div ID=\"div-representations\" LABEL=\"Representations\"><mets:fptr FILEID=\"filegrp-rep1\"/>\n\
        <mets:div ID=\"div-rep1\" LABEL=\"Representations/rep1\"><mets:mptr LOCTYPE=\"URL\" xlink:type=\"simple\" xlink:href=\"representations/rep1/METS.xml\" xlink:title=\"rep1\"/></mets:div>\n\
      </mets:div>\n\
    </mets:div>\n\
  </mets:structMap>\n\
</mets:mets>\n",
        esc(objid),
        esc(label),
        mets_hdr(created),
        file_entry(c.root, "documentation/README.txt", "file-documentation", created)?,
        file_entry(c.root, "schemas/tt05-2025.xsd", "file-schema", created)?,
        file_entry(c.root, "representations/rep1/METS.xml", "file-rep1-mets", created)?,
        esc(objid),
    );
    fs::write(&p, text).map_err(|e| io("write", &p, e))
}

/// Write the metadata files and the METS of the package at `root` (its payload and manifests
/// complete).
pub(crate) fn finish(
    root: &Path,
    objid: &str,
    ids: &[u64],
    organization: &str,
    user: &str,
    reason: &str,
) -> Result<()> {
    for d in [
        "metadata/descriptive",
        "metadata/preservation",
        "documentation",
        "schemas",
    ] {
        fs::create_dir_all(root.join(d)).map_err(|e| io("create", &root.join(d), e))?;
    }
    for (rel, text) in [
        ("documentation/README.txt", README),
        ("schemas/tt05-2025.xsd", XSD),
    ] {
        fs::write(root.join(rel), text).map_err(|e| io("write", &root.join(rel), e))?;
    }
    let c = Ctx {
        root,
        ids,
        created: now(),
    };
    write_descriptive(&c, organization)?;
    write_premis(&c, user, reason)?;
    write_mets(
        &c,
        objid,
        &format!("{} records exported by kyso", ids.len()),
    )
}

/// Zip the package directory `dir` (named OBJID) into `zip_path`, entries under `OBJID/`,
/// stored (the documents are compressed already), streamed file by file.
pub(crate) fn zip_dir(dir: &Path, zip_path: &Path) -> Result<()> {
    let objid = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let f = File::create(zip_path).map_err(|e| io("create", zip_path, e))?;
    let mut z = zip::ZipWriter::new(BufWriter::with_capacity(1 << 20, f));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Stored)
        .large_file(false);
    let zerr =
        |e: zip::result::ZipError| ArchiveError::Db(format!("zip {}: {e}", zip_path.display()));
    let mut stack = vec![(dir.to_path_buf(), objid.clone())];
    while let Some((d, rel)) = stack.pop() {
        let mut entries: Vec<_> = fs::read_dir(&d)
            .map_err(|e| io("read", &d, e))?
            .flatten()
            .collect();
        entries.sort_by_key(|e| e.file_name());
        z.add_directory(format!("{rel}/"), opts).map_err(zerr)?;
        for e in entries.into_iter().rev() {
            let name = format!("{rel}/{}", e.file_name().to_string_lossy());
            let ft = e.file_type().map_err(|x| io("stat", &e.path(), x))?;
            if ft.is_dir() {
                stack.push((e.path(), name));
            } else {
                let len = e.metadata().map(|m| m.len()).unwrap_or(0);
                let o = opts.large_file(len >= u32::MAX as u64);
                z.start_file(name, o).map_err(zerr)?;
                let mut src = File::open(e.path()).map_err(|x| io("open", &e.path(), x))?;
                std::io::copy(&mut src, &mut z).map_err(|x| io("zip", &e.path(), x))?;
            }
        }
    }
    let w = z.finish().map_err(zerr)?;
    let f = w
        .into_inner()
        .map_err(|e| io("write", zip_path, e.into_error()))?;
    f.sync_all().map_err(|e| io("fsync", zip_path, e))
}
