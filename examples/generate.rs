//! Deterministic workload generator: writes a realistic flowaudit v1 workspace of any size.
//!
//! ```text
//! cargo run --release --example generate -- --systems N [--seed S] --out DIR
//! ```
//!
//! The workspace models a consumer-IoT and AI company (the controller, in the EEA) running one
//! *programme* per product line: robot vacuums, indoor cameras, wearables, smart speakers and site
//! cameras. A programme has ten systems (vendor-hosted cloud, device, companion device, mobile app,
//! database, the labelling vendor's annotation tool, dataset, model, enrolment portal, helpdesk) and
//! nine activities (capture, app service, support, sharing with a partner controller, analytics,
//! human annotation, dataset curation, model training, enrolment), its data-subject groups (users,
//! and where the devices see them bystanders, visitors, the public, children) and its consent.
//! Every system owns two flows, so `N` systems give exactly `2N` flows; when `N` is not a multiple
//! of ten the last programme keeps only its first systems (each system's flows only reference
//! systems before it in the programme, so any prefix is a valid workspace).
//!
//! The other organisations form a shared pool scaled with `N`: cloud, support, analytics and
//! labelling vendors (processors), their subprocessors (`engaged_by` chains up to three deep:
//! crowd platforms, call centres, hosting) and partner controllers, joint controllers and
//! authorities, in EEA countries, countries with an adequacy decision (GB, CH, JP, KR, BR) and
//! third countries (US with and without DPF certification, IN, VE, CN, PH). (Brazil's decision
//! applies from 26 January 2026: at the tests' report date, 1 January 2026, it is not yet in force.)
//!
//! Each programme has a maturity level (mature, average or sloppy, from a fixed interleaved cycle
//! entered at a seed-dependent point); the level sets how often a fact is stated the wrong way
//! (a missing DPA clause, no TIA, undisclosed human review, an unredacted upload, indefinite
//! retention, …). Facts are nearly always *stated*, so few results are unknown. The probabilities
//! are tuned so that, for the default seed, about a third of the decided checkpoints that apply fail
//! (status `gap` among `pass` + `gap`: 25-42 %, see `tests/generator.rs`). Dates are chosen for a
//! report date early in 2026 (`SOURCE_DATE_EPOCH=1767225600` in the tests and benchmarks): DPF
//! list checks are dated 2025, so with a later date some of them become stale.
//!
//! Output files (a real repository's layout): `organisation.flow.yaml` (controller, notice, rights,
//! security, records, breaches, orders, waivers), `taxonomy.flow.yaml`, `parties/parties-NNNN`
//! (200 parties each), and per block of ten programmes (100 systems) `programmes/block-NNNN/`
//! `people.flow.yaml` (data subjects, consents), `activities.flow.yaml` and `systems.flow.yaml`
//! (systems and their flows).
//!
//! Determinism: the only source of randomness is the splitmix64 generator below, seeded from
//! `--seed` (default 1); no floating point, no hash maps, no dependency. The same `N` and seed give
//! byte-identical files on every platform and with every version of the crate's dependencies.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// splitmix64 (Steele, Lea and Flood, "Fast splittable pseudorandom number generators", 2014;
/// the reference constants of Vigna's `splitmix64.c`): a 64-bit counter stepped by the golden
/// gamma and passed through a mixing function. Small, fast and the same on every platform.
#[derive(Clone, Debug)]
pub struct Rng(pub u64);

impl Rng {
    /// A generator for `seed`, on stream `stream` (independent sequences for the party pool and
    /// for each programme, so a programme's contents do not depend on the ones before it).
    pub fn new(seed: u64, stream: u64) -> Rng {
        let mut r = Rng(seed ^ stream.wrapping_mul(0xD1B5_4A32_D192_ED03));
        r.next_u64();
        r
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (multiply-shift; the bias is below 2^-32 for the small `n` used here).
    pub fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n.max(1))) >> 64) as u64
    }

    /// True with probability `permille` / 1000.
    pub fn chance(&mut self, permille: u32) -> bool {
        self.below(1000) < u64::from(permille)
    }

    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo + 1)
    }

    pub fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len() as u64) as usize]
    }

    /// Picks from `(weight, value)` pairs.
    pub fn weighted<T: Copy>(&mut self, xs: &[(u32, T)]) -> T {
        let total: u64 = xs.iter().map(|(w, _)| u64::from(*w)).sum();
        let mut x = self.below(total);
        for (w, v) in xs {
            if x < u64::from(*w) {
                return *v;
            }
            x -= u64::from(*w);
        }
        xs[xs.len() - 1].1
    }
}

// ------------------------------------------------------------------------------------------------
// A tiny YAML writer: block mappings, block sequences of mappings, flow sequences of scalars and
// short flow mappings. Free text is always double-quoted; ids, enum values and durations are plain.

#[derive(Clone, Debug)]
enum V {
    Str(String),
    Word(String),
    Bool(bool),
    Int(u64),
    Null,
    List(Vec<V>),
    Map(M),
    Items(Vec<M>),
}

#[derive(Clone, Debug, Default)]
struct M(Vec<(&'static str, V)>);

impl M {
    fn new() -> M {
        M(Vec::new())
    }
    fn put(mut self, k: &'static str, v: V) -> M {
        self.0.push((k, v));
        self
    }
    fn w(self, k: &'static str, v: impl Into<String>) -> M {
        self.put(k, V::Word(v.into()))
    }
    fn s(self, k: &'static str, v: impl Into<String>) -> M {
        self.put(k, V::Str(v.into()))
    }
    fn b(self, k: &'static str, v: bool) -> M {
        self.put(k, V::Bool(v))
    }
    /// A boolean that may be left unstated (`None`): an unknown fact, as in real workspaces.
    fn ob(self, k: &'static str, v: Option<bool>) -> M {
        match v {
            Some(b) => self.b(k, b),
            None => self,
        }
    }
    fn n(self, k: &'static str, v: u64) -> M {
        self.put(k, V::Int(v))
    }
    fn null(self, k: &'static str) -> M {
        self.put(k, V::Null)
    }
    fn words<S: AsRef<str>>(self, k: &'static str, xs: &[S]) -> M {
        self.put(
            k,
            V::List(xs.iter().map(|x| V::Word(x.as_ref().to_string())).collect()),
        )
    }
    fn strs<S: AsRef<str>>(self, k: &'static str, xs: &[S]) -> M {
        self.put(
            k,
            V::List(xs.iter().map(|x| V::Str(x.as_ref().to_string())).collect()),
        )
    }
    fn m(self, k: &'static str, v: M) -> M {
        self.put(k, V::Map(v))
    }
    fn items(self, k: &'static str, v: Vec<M>) -> M {
        self.put(k, V::Items(v))
    }
}

fn quote(s: &str) -> String {
    let mut q = String::with_capacity(s.len() + 2);
    q.push('"');
    for c in s.chars() {
        match c {
            '"' => q.push_str("\\\""),
            '\\' => q.push_str("\\\\"),
            '\n' => q.push_str("\\n"),
            c => q.push(c),
        }
    }
    q.push('"');
    q
}

fn scalar(v: &V) -> Option<String> {
    Some(match v {
        V::Str(s) => quote(s),
        V::Word(s) => s.clone(),
        V::Bool(b) => b.to_string(),
        V::Int(n) => n.to_string(),
        V::Null => "null".to_string(),
        V::List(xs) => {
            let parts: Vec<String> = xs.iter().filter_map(scalar).collect();
            format!("[{}]", parts.join(", "))
        }
        V::Map(_) | V::Items(_) => return None,
    })
}

/// A mapping short enough to write as `{a: x, b: y}`.
fn inline_map(m: &M) -> Option<String> {
    if m.0.len() > 4 {
        return None;
    }
    let mut parts = Vec::new();
    for (k, v) in &m.0 {
        parts.push(format!("{k}: {}", scalar(v)?));
    }
    let text = format!("{{{}}}", parts.join(", "));
    (text.len() <= 72).then_some(text)
}

fn emit(out: &mut String, m: &M, indent: usize, first: Option<&str>) {
    let pad = " ".repeat(indent);
    for (i, (k, v)) in m.0.iter().enumerate() {
        let lead = match (i, first) {
            (0, Some(f)) => f,
            _ => pad.as_str(),
        };
        match v {
            V::Map(inner) => match inline_map(inner) {
                Some(text) => {
                    let _ = writeln!(out, "{lead}{k}: {text}");
                }
                None => {
                    let _ = writeln!(out, "{lead}{k}:");
                    emit(out, inner, indent + 2, None);
                }
            },
            V::Items(items) => {
                let _ = writeln!(out, "{lead}{k}:");
                let dash = format!("{pad}  - ");
                for item in items {
                    emit(out, item, indent + 4, Some(&dash));
                }
            }
            other => {
                let text = scalar(other).unwrap_or_default();
                let _ = writeln!(out, "{lead}{k}: {text}");
            }
        }
    }
}

/// One flow document: a header comment, `flowaudit: 1`, then each section after its comment.
fn document(header: &str, sections: Vec<(&str, &'static str, V)>) -> String {
    let mut out = String::new();
    for line in header.lines() {
        let _ = writeln!(out, "# {line}");
    }
    out.push_str("flowaudit: 1\n");
    for (comment, key, value) in sections {
        out.push('\n');
        for line in comment.lines() {
            let _ = writeln!(out, "# {line}");
        }
        emit(&mut out, &M::new().put(key, value), 0, None);
    }
    out
}

// ------------------------------------------------------------------------------------------------
// Reference lists.

const EEA: &[&str] = &[
    "DE", "FR", "IE", "NL", "ES", "IT", "PL", "SE", "AT", "BE", "DK", "FI",
];

const STEMS: &[&str] = &[
    "nimbus", "stratus", "cirrus", "helio", "kestrel", "orbit", "quanta", "vertex", "lumen",
    "tessera", "atlas", "boreal", "cobalt", "delta", "ember", "fjord", "granite", "harbor",
    "indigo", "juniper", "krypton", "lattice", "meridian", "nova", "onyx", "prism", "quarry",
    "raven", "sierra", "tundra", "umbra", "vantage", "willow", "xenon", "yarrow", "zephyr",
];

fn legal_suffix(country: &str) -> &'static str {
    match country {
        "DE" | "AT" => "GmbH",
        "FR" => "SAS",
        "NL" | "BE" => "B.V.",
        "IE" | "GB" => "Ltd",
        "ES" => "S.L.",
        "IT" => "S.r.l.",
        "PL" => "sp. z o.o.",
        "SE" | "DK" | "FI" => "AB",
        "US" => "Inc.",
        "IN" => "Pvt Ltd",
        "VE" => "C.A.",
        "CN" => "Co., Ltd.",
        "BR" => "Ltda.",
        "JP" => "K.K.",
        "KR" => "Co., Ltd.",
        "CH" => "AG",
        "PH" => "Inc.",
        _ => "Ltd",
    }
}

fn language(country: &str) -> &'static str {
    match country {
        "DE" | "AT" => "de",
        "FR" | "BE" => "fr",
        "NL" => "nl",
        "ES" => "es",
        "IT" => "it",
        "PL" => "pl",
        "SE" => "sv",
        "DK" => "da",
        "FI" => "fi",
        _ => "en",
    }
}

fn date(rng: &mut Rng, year_lo: u64, year_hi: u64) -> String {
    format!(
        "{}-{:02}-{:02}",
        rng.range(year_lo, year_hi),
        rng.range(1, 12),
        rng.range(1, 28)
    )
}

/// Programme maturity: the permille chance that any one fact is stated the wrong way.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Level {
    Mature,
    Average,
    Sloppy,
}

impl Level {
    /// The level of programme `k`: a fixed, interleaved cycle of twenty (4 mature, 10 average,
    /// 6 sloppy) entered at a seed-dependent point, so that even a few programmes get a
    /// representative mix and the share of failing checks varies little with the seed.
    fn of_programme(seed: u64, k: usize) -> Level {
        const CYCLE: &[u8; 20] = b"ASMAASAMSAASMASAMASA";
        let start = Rng::new(seed, u64::MAX - 2).below(20) as usize;
        match CYCLE[(start + k) % 20] {
            b'M' => Level::Mature,
            b'S' => Level::Sloppy,
            _ => Level::Average,
        }
    }

    fn defect(self) -> u32 {
        match self {
            Level::Mature => 160,
            Level::Average => 420,
            Level::Sloppy => 680,
        }
    }
}

// ------------------------------------------------------------------------------------------------
// The party pool.

#[derive(Clone, Copy, Debug, PartialEq)]
enum PartyKind {
    Cloud,
    Support,
    Analytics,
    Labelling,
    Crowd,
    CallCentre,
    Hosting,
    Recipient,
}

struct Party {
    id: String,
    name: String,
    country: &'static str,
    role: &'static str,
    engaged_by: Option<usize>,
    /// Subprocessors it engaged (indices into the pool).
    subs: Vec<usize>,
    doc: M,
}

struct Pool {
    parties: Vec<Party>,
    clouds: Vec<usize>,
    supports: Vec<usize>,
    analytics: Vec<usize>,
    labellers: Vec<usize>,
    recipients: Vec<usize>,
}

fn is_eea(c: &str) -> bool {
    EEA.contains(&c)
}

fn is_adequate(c: &str) -> bool {
    matches!(c, "GB" | "CH" | "JP" | "KR" | "BR")
}

impl Pool {
    fn build(systems: usize, seed: u64) -> Pool {
        let mut rng = Rng::new(seed, 0);
        let mut pool = Pool {
            parties: Vec::new(),
            clouds: Vec::new(),
            supports: Vec::new(),
            analytics: Vec::new(),
            labellers: Vec::new(),
            recipients: Vec::new(),
        };
        let scale = |per: usize, min: usize| (systems / per).max(min);
        for _ in 0..scale(50, 2) {
            let c = rng.weighted(&[
                (30, "DE"),
                (22, "IE"),
                (10, "NL"),
                (8, "FR"),
                (20, "US"),
                (5, "GB"),
                (5, "CH"),
            ]);
            let i = pool.add(&mut rng, PartyKind::Cloud, c, None);
            pool.clouds.push(i);
            if rng.chance(350) {
                let c = rng.weighted(&[(50, "US"), (30, "IE"), (20, "IN")]);
                pool.add(&mut rng, PartyKind::Hosting, c, Some(i));
            }
        }
        for _ in 0..scale(50, 2) {
            let c = rng.weighted(&[(25, "IE"), (20, "DE"), (25, "US"), (15, "GB"), (15, "IN")]);
            let i = pool.add(&mut rng, PartyKind::Support, c, None);
            pool.supports.push(i);
            if rng.chance(650) {
                let c = rng.weighted(&[(45, "IN"), (35, "PH"), (20, "PL")]);
                pool.add(&mut rng, PartyKind::CallCentre, c, Some(i));
            }
        }
        for _ in 0..scale(50, 2) {
            let c = rng.weighted(&[(30, "FR"), (25, "DE"), (30, "US"), (15, "GB")]);
            let i = pool.add(&mut rng, PartyKind::Analytics, c, None);
            pool.analytics.push(i);
        }
        for _ in 0..scale(40, 2) {
            let c = rng.weighted(&[
                (35, "US"),
                (20, "IN"),
                (15, "DE"),
                (10, "GB"),
                (10, "JP"),
                (5, "CN"),
                (5, "KR"),
            ]);
            let i = pool.add(&mut rng, PartyKind::Labelling, c, None);
            pool.labellers.push(i);
            let crowds = 1 + rng.below(2) as usize;
            for _ in 0..crowds {
                let c = rng.weighted(&[
                    (30, "VE"),
                    (25, "IN"),
                    (15, "PH"),
                    (15, "BR"),
                    (10, "CN"),
                    (5, "PL"),
                ]);
                let s = pool.add(&mut rng, PartyKind::Crowd, c, Some(i));
                if rng.chance(200) {
                    let c = rng.weighted(&[(50, "VE"), (50, "PH")]);
                    pool.add(&mut rng, PartyKind::Crowd, c, Some(s));
                }
            }
        }
        for _ in 0..scale(50, 2) {
            let c = rng.weighted(&[
                (30, "DE"),
                (15, "FR"),
                (10, "NL"),
                (10, "IT"),
                (20, "US"),
                (10, "GB"),
                (5, "CN"),
            ]);
            let i = pool.add(&mut rng, PartyKind::Recipient, c, None);
            pool.recipients.push(i);
        }
        pool
    }

    /// A party that receives flows at the end of a chain: the labeller's deepest crowd platform.
    fn deepest_sub(&self, i: usize, rng: &mut Rng) -> Option<usize> {
        let subs = &self.parties[i].subs;
        if subs.is_empty() {
            return None;
        }
        let s = *rng.pick(subs);
        Some(self.deepest_sub(s, rng).unwrap_or(s))
    }

    fn add(
        &mut self,
        rng: &mut Rng,
        kind: PartyKind,
        country: &'static str,
        engaged_by: Option<usize>,
    ) -> usize {
        let index = self.parties.len();
        let stem = rng.pick(STEMS);
        let sloppy = rng.chance(300);
        let p = if sloppy { 450 } else { 100 };
        let (slug, what, role) = match kind {
            PartyKind::Cloud => ("cloud", "Cloud", "processor"),
            PartyKind::Support => ("support", "Customer Care", "processor"),
            PartyKind::Analytics => ("analytics", "Analytics", "processor"),
            PartyKind::Labelling => ("labelling", "Data Labelling", "processor"),
            PartyKind::Crowd => ("crowd", "Crowdwork", "subprocessor"),
            PartyKind::CallCentre => ("callcentre", "Contact Centre", "subprocessor"),
            PartyKind::Hosting => ("hosting", "Hosting", "subprocessor"),
            PartyKind::Recipient => {
                let r = rng.weighted(&[
                    (55, ("insurer", "Insurance", "controller")),
                    (20, ("adnet", "Ad Network", "controller")),
                    (15, ("institute", "Research Institute", "joint_controller")),
                    (
                        10,
                        (
                            "authority",
                            "Regional Police Directorate",
                            "public_authority",
                        ),
                    ),
                ]);
                if r.2 == "public_authority" {
                    // Authorities are in the EEA, not abroad.
                    return self.add_authority(rng, index, r.0, r.1);
                }
                r
            }
        };
        let id = format!("{stem}-{slug}-{index}");
        let name = format!(
            "{}{} {what} {}",
            stem[..1].to_uppercase(),
            &stem[1..],
            legal_suffix(country)
        );
        let mut doc = M::new()
            .w("id", id.clone())
            .s("name", name.clone())
            .s("country", country)
            .w("role", role);
        if let Some(e) = engaged_by {
            doc = doc.w("engaged_by", self.parties[e].id.clone());
        }
        let processor = matches!(role, "processor" | "subprocessor");
        let mut contract = M::new();
        match role {
            "processor" | "subprocessor" => {
                let crowd_tos = kind == PartyKind::Crowd && rng.chance(p + 150);
                if crowd_tos {
                    // Click-through platform terms instead of an Art. 28 contract.
                    contract = contract
                        .w("type", "terms_of_service")
                        .words::<&str>("clauses", &[])
                        .b("clauses_complete", false)
                        .w("subprocessing", "general_with_notice")
                        .b("flows_down", false);
                } else {
                    let mut clauses: Vec<&str> = vec!["a", "b", "c", "d", "e", "f", "g", "h"];
                    let complete = !rng.chance(p);
                    if !complete {
                        let drop = *rng.pick(&["b", "d", "g", "h"]);
                        clauses.retain(|c| *c != drop);
                        if rng.chance(400) {
                            clauses.retain(|c| *c != "g");
                        }
                    }
                    contract = contract
                        .w("type", if rng.chance(p / 6) { "nda" } else { "dpa" })
                        .words("clauses", &clauses)
                        .b("clauses_complete", complete)
                        .w(
                            "subprocessing",
                            if rng.chance(p / 3) {
                                "not_allowed"
                            } else if rng.chance(500) {
                                "prior_specific"
                            } else {
                                "general_with_notice"
                            },
                        )
                        .b("flows_down", !rng.chance(p));
                }
                contract = contract.s("signed", date(rng, 2019, 2025));
            }
            "joint_controller" => {
                contract = contract
                    .w("type", "joint_arrangement")
                    .b("covers_rights_and_info", !rng.chance(p))
                    .b("essence_published", !rng.chance(p + 100))
                    .s("signed", date(rng, 2020, 2025));
            }
            _ => {
                contract = contract
                    .w(
                        "type",
                        if rng.chance(500) {
                            "terms_of_service"
                        } else {
                            "nda"
                        },
                    )
                    .s("signed", date(rng, 2020, 2025));
            }
        }
        doc = doc.m("contract", contract);
        if processor {
            doc = doc
                .ob("due_diligence", (!rng.chance(60)).then(|| !rng.chance(p)))
                .b("own_purposes", rng.chance(p / 4));
        }
        if country == "US" {
            let certified = rng.chance(if processor { 600 } else { 500 });
            doc = doc.b("dpf_certified", certified);
            if certified {
                let stale = rng.chance(p / 2);
                doc = doc
                    .w("dpf_scope", if rng.chance(300) { "both" } else { "non_hr" })
                    .s(
                        "dpf_checked",
                        if stale {
                            date(rng, 2023, 2024)
                        } else {
                            format!("2025-{:02}-{:02}", rng.range(4, 12), rng.range(1, 28))
                        },
                    );
            }
            let mechanism = if certified { "dpf" } else { "scc" };
            doc = doc.m("transfer", transfer_block(rng, mechanism, p, true));
        } else if is_adequate(country) {
            doc = doc.m("transfer", M::new().w("mechanism", "adequacy"));
        } else if !is_eea(country) {
            let mechanism = if kind == PartyKind::Crowd && rng.chance(p + 100) {
                "none"
            } else if rng.chance(80) {
                "bcr"
            } else if rng.chance(60) {
                // Art. 49 used for regular transfers: the classic misuse.
                "derogation"
            } else {
                "scc"
            };
            doc = doc.m(
                "transfer",
                transfer_block(rng, mechanism, p, country != "PH"),
            );
        }
        self.parties.push(Party {
            id,
            name,
            country,
            role,
            engaged_by,
            subs: Vec::new(),
            doc,
        });
        if let Some(e) = engaged_by {
            self.parties[e].subs.push(index);
        }
        index
    }

    fn add_authority(&mut self, rng: &mut Rng, index: usize, slug: &str, what: &str) -> usize {
        let country = *rng.pick(&["DE", "FR", "NL", "IE"]);
        let region = rng.pick(&[
            "Northshore",
            "Lakeside",
            "Hillcrest",
            "Riverbend",
            "Eastmarch",
        ]);
        let id = format!("{}-{slug}-{index}", region.to_lowercase());
        let name = format!("{region} {what}");
        let doc = M::new()
            .w("id", id.clone())
            .s("name", name.clone())
            .s("country", country)
            .w("role", "public_authority");
        self.parties.push(Party {
            id,
            name,
            country,
            role: "public_authority",
            engaged_by: None,
            subs: Vec::new(),
            doc,
        });
        index
    }
}

/// The Chapter V tool on a party outside the EEA (`p`: the party's defect rate).
fn transfer_block(rng: &mut Rng, mechanism: &str, p: u32, access_law: bool) -> M {
    let t = M::new().w("mechanism", mechanism).b("systematic", true);
    match mechanism {
        "scc" | "bcr" => {
            let keys_in_eea = !rng.chance(p + 250);
            let keys = if keys_in_eea {
                "encryption at rest, keys held by the exporter in the EEA"
            } else {
                "encryption at rest, keys managed by the importer"
            };
            t.b("tia", !rng.chance(p))
                .strs("supplementary_measures", &["TLS 1.3 in transit", keys])
                .b("importer_subject_to_access_law", access_law)
                .b("readable_by_importer", !keys_in_eea)
        }
        "derogation" => M::new()
            .w("mechanism", mechanism)
            .w("derogation", *rng.pick(&["consent", "contract"]))
            .b("systematic", rng.chance(700))
            .b("tia", false)
            .b("importer_subject_to_access_law", access_law)
            .b("readable_by_importer", true),
        "none" => t
            .b("tia", false)
            .b("importer_subject_to_access_law", access_law)
            .b("readable_by_importer", true),
        _ => t
            .b("importer_subject_to_access_law", access_law)
            .b("readable_by_importer", true),
    }
}

// ------------------------------------------------------------------------------------------------
// Programmes.

#[derive(Clone, Copy, Debug, PartialEq)]
enum Product {
    Vacuum,
    IndoorCam,
    Wearable,
    Speaker,
    SiteCam,
}

impl Product {
    fn slug(self) -> &'static str {
        match self {
            Product::Vacuum => "vac",
            Product::IndoorCam => "cam",
            Product::Wearable => "band",
            Product::Speaker => "spk",
            Product::SiteCam => "site",
        }
    }
    fn home(self) -> bool {
        matches!(
            self,
            Product::Vacuum | Product::IndoorCam | Product::Speaker
        )
    }
}

/// The id suffix of an activity (`app` would clash with the app system's id).
fn activity_slug(a: &str) -> &str {
    if a == "app" { "accounts" } else { a }
}

/// Everything one block of programmes contributes, as document sections.
#[derive(Default)]
struct Block {
    subjects: Vec<M>,
    consents: Vec<M>,
    activities: Vec<M>,
    systems: Vec<M>,
    flows: Vec<M>,
}

struct Ctx<'a> {
    pool: &'a Pool,
    controller: &'a str,
    home_country: &'static str,
}

fn programme(ctx: &Ctx, k: usize, systems: usize, seed: u64, out: &mut Block) {
    let mut rng = Rng::new(seed, k as u64 + 1);
    let rng = &mut rng;
    let product = rng.weighted(&[
        (30, Product::Vacuum),
        (20, Product::IndoorCam),
        (20, Product::Wearable),
        (15, Product::Speaker),
        (15, Product::SiteCam),
    ]);
    let level = Level::of_programme(seed, k);
    let p = level.defect();
    let pre = format!("{}{}", product.slug(), k + 1);
    let model_no = rng.range(2, 9);
    let stage = rng.weighted(&[(25, "prototype"), (20, "beta"), (55, "production")]);
    let testers = stage != "production";
    let pool = ctx.pool;
    let cloud = *rng.pick(&pool.clouds);
    let support = *rng.pick(&pool.supports);
    let analytics = *rng.pick(&pool.analytics);
    let labeller = *rng.pick(&pool.labellers);
    let crowd = pool.deepest_sub(labeller, rng);
    let recipient = *rng.pick(&pool.recipients);
    let tier2 = pool.parties[support].subs.first().copied();
    let pid = |i: usize| pool.parties[i].id.clone();

    // --- What the devices are and what they capture. -------------------------------------------
    let (device_name, companion_name, sensors, companion_sensors, location): (
        String,
        String,
        Vec<&str>,
        Vec<&str>,
        Option<&str>,
    ) = match product {
        Product::Vacuum => (
            format!("Sweepline R{model_no} robot vacuum"),
            format!("Sweepline R{model_no} base station"),
            if rng.chance(800) {
                vec!["camera", "lidar"]
            } else {
                vec!["lidar"]
            },
            vec!["other"],
            Some("home"),
        ),
        Product::IndoorCam => (
            format!("Homewatch C{model_no} indoor camera"),
            format!("Homewatch D{model_no} video doorbell"),
            vec!["camera", "microphone"],
            vec!["camera", "microphone"],
            Some("home"),
        ),
        Product::Wearable => (
            format!("Pulseband {model_no} fitness tracker"),
            format!("Pulseband scale S{model_no}"),
            vec!["location", "biometric_scanner", "other"],
            vec!["biometric_scanner"],
            None,
        ),
        Product::Speaker => (
            format!("Echohome {model_no} smart speaker"),
            format!("Echohome Show {model_no} smart display"),
            vec!["microphone"],
            vec!["camera", "microphone"],
            Some("home"),
        ),
        Product::SiteCam => (
            format!("Sitewatch V{model_no} site camera"),
            format!("Sitewatch B{model_no} badge reader"),
            vec!["camera"],
            vec!["biometric_scanner"],
            Some(if rng.chance(600) {
                "workplace"
            } else {
                "public_space"
            }),
        ),
    };
    let camera = sensors.contains(&"camera");
    // Some site cameras are (also) used to watch the staff.
    let staff_monitoring =
        product == Product::SiteCam && location == Some("workplace") && rng.chance(250);
    let face_recognition = product == Product::IndoorCam && rng.chance(300);
    let voice_match = product == Product::Speaker && rng.chance(350);
    let badge_biometric = product == Product::SiteCam && rng.chance(300);
    let biometric_use = if face_recognition {
        "identification"
    } else if voice_match || badge_biometric {
        "authentication"
    } else {
        "none"
    };
    let mut capture_data: Vec<&str> = match product {
        Product::Vacuum if camera => vec!["user.content.image", "user.sensor.home"],
        Product::Vacuum => vec!["user.sensor.home"],
        Product::IndoorCam => vec!["user.content.video", "user.content.audio"],
        Product::Wearable => vec!["user.location.precise", "user.biometric.health"],
        Product::Speaker => vec!["user.content.audio"],
        Product::SiteCam => vec!["user.content.video"],
    };
    if face_recognition {
        capture_data.push("user.biometric.face");
    }
    if voice_match {
        capture_data.push("user.biometric.voice");
    }
    let companion_data: Vec<&str> = match product {
        Product::Vacuum => vec!["user.device.device_id", "user.telemetry.usage"],
        Product::IndoorCam => vec!["user.content.video", "user.content.audio"],
        Product::Wearable => vec!["user.biometric.health", "user.device.device_id"],
        Product::Speaker => vec!["user.content.video", "user.content.audio"],
        Product::SiteCam if badge_biometric => vec!["user.biometric.fingerprint", "user.unique_id"],
        Product::SiteCam => vec!["user.unique_id", "user.workplace"],
    };
    // What the police may ask for: the recordings or traces, and whose device made them.
    let authority_data = [capture_data[0], "user.device.device_id"];
    let media_upload: Vec<&str> = capture_data
        .iter()
        .copied()
        .chain(std::iter::once("user.device.device_id"))
        .collect();
    let special = product == Product::Wearable || biometric_use != "none";

    // --- People. ------------------------------------------------------------------------------
    let countries: Vec<&str> = if rng.chance(250) {
        vec!["EEA"]
    } else {
        let mut cs = vec![ctx.home_country];
        for _ in 0..rng.below(3) {
            let c = *rng.pick(EEA);
            if !cs.contains(&c) {
                cs.push(c);
            }
        }
        cs
    };
    let users = format!("{pre}-users");
    let (user_category, user_name) = match product {
        Product::SiteCam => ("employee", "Staff working at the monitored sites"),
        _ if testers => ("tester", "Paid testers of the pre-release units"),
        Product::Wearable => ("customer", "Owners of the tracker"),
        _ => ("user", "Households using the device"),
    };
    let teen_users = product == Product::Wearable && rng.chance(250);
    // Non-users the devices capture (household members, visitors, children, the public).
    let mut others: Vec<String> = Vec::new();
    let approx_users = rng.range(2, 400) * 1000;
    let mut people = vec![
        M::new()
            .w("id", users.clone())
            .s("name", format!("{user_name} ({device_name})"))
            .w("category", user_category)
            .words("countries", &countries)
            .n("min_age", if teen_users { 13 } else { 18 })
            .n(
                "approx_count",
                if testers {
                    rng.range(50, 2000)
                } else {
                    approx_users
                },
            )
            .b("informed", !rng.chance(p / 5))
            .b("vulnerable", false),
    ];
    let mut other =
        |id: String, name: &str, category: &str, min_age: Option<u64>, informed: Option<bool>| {
            let mut m = M::new()
                .w("id", id.clone())
                .s("name", format!("{name} ({device_name})"))
                .w("category", category)
                .words("countries", &countries);
            // The public includes people of every age; nobody states a youngest age for it.
            if let Some(age) = min_age {
                m = m.n("min_age", age);
            }
            m = m
                .ob("informed", informed)
                .b("vulnerable", category == "child");
            if category == "public" {
                m = m.n("approx_count", approx_users * 3);
            }
            people.push(m);
            others.push(id);
        };
    let household_notice = !rng.chance(p + 300);
    match product {
        Product::Vacuum | Product::IndoorCam | Product::Speaker => {
            other(
                format!("{pre}-household"),
                "Other adults living in users' homes",
                "bystander",
                Some(18),
                Some(household_notice),
            );
            if rng.chance(500) {
                other(
                    format!("{pre}-visitors"),
                    "Guests and domestic workers in users' homes",
                    "visitor",
                    Some(18),
                    // Whether anyone tells guests is sometimes simply not known.
                    (!rng.chance(p / 3)).then(|| household_notice && !rng.chance(p)),
                );
            }
            if rng.chance(280) {
                other(
                    format!("{pre}-children"),
                    "Children living in or visiting users' homes",
                    "child",
                    Some(0),
                    Some(false),
                );
            }
        }
        Product::SiteCam => {
            let signed = !rng.chance(p);
            other(
                format!("{pre}-visitors"),
                "Visitors and contractors at the sites",
                "visitor",
                Some(18),
                Some(signed),
            );
            if location == Some("public_space") {
                other(
                    format!("{pre}-public"),
                    "Passers-by in the camera's field of view",
                    "public",
                    None,
                    Some(signed && !rng.chance(p)),
                );
            }
        }
        Product::Wearable => {}
    }
    let captures_non_users = !others.is_empty();

    // --- Systems (role order: each role's flows only reference earlier roles). -----------------
    let cloud_country = pool.parties[cloud].country;
    let label_country = pool.parties[labeller].country;
    let support_country = pool.parties[support].country;
    let secure = |rng: &mut Rng, p: u32| -> Option<M> {
        // Vendor-run systems may fall short of the controller's organisation-wide measures.
        let mut s = M::new();
        if rng.chance(p) {
            s = s.b("mfa_staff", false);
        }
        if rng.chance(p / 2) {
            s = s.b("shared_accounts", true);
        }
        if rng.chance(p) {
            s = s.b("export_controls", false);
        }
        if rng.chance(p / 2) {
            s = s.b("least_privilege", false);
        }
        if rng.chance(p / 2) {
            s = s.b("access_logging", false);
        }
        (!s.0.is_empty()).then_some(s)
    };
    let system = |id: String,
                  name: String,
                  operated_by: String,
                  kind: &str,
                  country: Option<&str>,
                  location: Option<&str>,
                  sensors: &[&str],
                  stage: &str,
                  security: Option<M>| {
        let mut m = M::new()
            .w("id", id)
            .s("name", name)
            .w("operated_by", operated_by)
            .w("kind", kind);
        if let Some(c) = country {
            m = m.s("country", c);
        }
        if let Some(l) = location {
            m = m.w("location", l);
        }
        m = m.words("sensors", sensors).w("stage", stage);
        if let Some(s) = security {
            m = m.m("security", s);
        }
        m
    };
    let id = |s: &str| format!("{pre}-{s}");
    let mut flows: Vec<M> = Vec::new();
    let mut used_activities: Vec<&str> = Vec::new();
    let mut flow = |used: &mut Vec<&'static str>,
                    fid: String,
                    activity: &'static str,
                    from: String,
                    to: String,
                    data: &[&str],
                    subjects: &[String],
                    access: &str,
                    extra: M| {
        if !used.contains(&activity) {
            used.push(activity);
        }
        let mut m = M::new()
            .w("id", fid)
            .w("activity", format!("{pre}-{}", activity_slug(activity)))
            .w("from", from)
            .w("to", to)
            .words("data", data)
            .words("subjects", subjects);
        if access != "copy" {
            m = m.w("access", access);
        }
        m.0.extend(extra.0);
        flows.push(m);
    };
    let everyone: Vec<String> = std::iter::once(users.clone())
        .chain(others.iter().cloned())
        .collect();
    let only_users = vec![users.clone()];
    let upload_redacted = camera && rng.chance(1000 - p - 250);
    let downstream: Vec<String> = if upload_redacted {
        only_users.clone()
    } else {
        everyone.clone()
    };
    let tls = |rng: &mut Rng| M::new().b("encryption_in_transit", !rng.chance(p / 4));
    let mut sys_docs: Vec<M> = Vec::new();
    let roles = systems.min(10);
    let ops = ctx.controller.to_string();
    for role in 0..roles {
        match role {
            0 => {
                sys_docs.push(system(
                    id("cloud"),
                    format!("{device_name} cloud backend"),
                    pid(cloud),
                    "cloud_service",
                    Some(cloud_country),
                    Some("datacenter"),
                    &[],
                    "production",
                    secure(rng, p / 3),
                ));
                flow(
                    &mut used_activities,
                    id("cloud-support"),
                    "support",
                    id("cloud"),
                    pid(support),
                    &["user.name", "user.contact.email", "user.device.device_id"],
                    &only_users,
                    "remote_access",
                    tls(rng),
                );
                let share_data: &[&str] = match pool.parties[recipient].role {
                    "public_authority" => &authority_data,
                    "joint_controller" => &["user.telemetry", "user.demographic.age_range"],
                    _ => &[
                        "user.device.device_id",
                        "user.telemetry",
                        "user.location.imprecise",
                    ],
                };
                flow(
                    &mut used_activities,
                    id("partner-share"),
                    "sharing",
                    id("cloud"),
                    pid(recipient),
                    share_data,
                    &only_users,
                    "copy",
                    tls(rng).b("pseudonymised", rng.chance(500)),
                );
            }
            1 => {
                sys_docs.push(system(
                    id("device"),
                    device_name.clone(),
                    ops.clone(),
                    "device",
                    None,
                    location,
                    &sensors,
                    stage,
                    None,
                ));
                flow(
                    &mut used_activities,
                    id("capture-in"),
                    "capture",
                    users.clone(),
                    id("device"),
                    &capture_data,
                    &everyone,
                    "copy",
                    M::new(),
                );
                flow(
                    &mut used_activities,
                    id("upload"),
                    "capture",
                    id("device"),
                    id("cloud"),
                    &media_upload,
                    &downstream,
                    "copy",
                    tls(rng)
                        .b("redacted", upload_redacted)
                        .b("pseudonymised", rng.chance(400)),
                );
            }
            2 => {
                sys_docs.push(system(
                    id("app"),
                    format!("{device_name} companion app"),
                    ops.clone(),
                    "mobile_app",
                    None,
                    Some("online"),
                    &[],
                    "production",
                    None,
                ));
                let mut app_data = vec!["user.name", "user.contact.email", "user.device.device_id"];
                if product == Product::Wearable {
                    app_data.push("user.location.precise");
                }
                flow(
                    &mut used_activities,
                    id("app-signin"),
                    "app",
                    users.clone(),
                    id("app"),
                    &app_data,
                    &only_users,
                    "copy",
                    M::new(),
                );
                flow(
                    &mut used_activities,
                    id("app-sync"),
                    "app",
                    id("app"),
                    id("cloud"),
                    &app_data,
                    &only_users,
                    "copy",
                    tls(rng),
                );
            }
            3 => {
                sys_docs.push(system(
                    id("db"),
                    format!("{device_name} data store"),
                    ops.clone(),
                    "database",
                    Some(ctx.home_country),
                    Some("datacenter"),
                    &[],
                    "production",
                    None,
                ));
                flow(
                    &mut used_activities,
                    id("store"),
                    "capture",
                    id("cloud"),
                    id("db"),
                    &media_upload,
                    &downstream,
                    "copy",
                    tls(rng).b("redacted", upload_redacted),
                );
                flow(
                    &mut used_activities,
                    id("analytics-export"),
                    "analytics",
                    id("db"),
                    pid(analytics),
                    &[
                        "user.device.device_id",
                        "user.behavior",
                        "user.telemetry.usage",
                    ],
                    &only_users,
                    "copy",
                    tls(rng).b("pseudonymised", !rng.chance(p)),
                );
            }
            4 => {
                sys_docs.push(system(
                    id("labelling"),
                    format!("{} annotation workbench", pool.parties[labeller].name),
                    pid(labeller),
                    "annotation_tool",
                    Some(label_country),
                    Some("datacenter"),
                    &[],
                    "production",
                    secure(rng, p),
                ));
                flow(
                    &mut used_activities,
                    id("to-labelling"),
                    "annotation",
                    id("db"),
                    id("labelling"),
                    &capture_data,
                    &downstream,
                    "copy",
                    tls(rng).b("redacted", upload_redacted || !rng.chance(p + 200)),
                );
                match crowd {
                    Some(c) => flow(
                        &mut used_activities,
                        id("crowd-review"),
                        "annotation",
                        id("labelling"),
                        pid(c),
                        &capture_data,
                        &downstream,
                        "human_review",
                        tls(rng).b("redacted", upload_redacted || !rng.chance(p + 200)),
                    ),
                    None => flow(
                        &mut used_activities,
                        id("vendor-review"),
                        "annotation",
                        id("labelling"),
                        pid(labeller),
                        &capture_data,
                        &downstream,
                        "human_review",
                        tls(rng),
                    ),
                }
            }
            5 => {
                sys_docs.push(system(
                    id("dataset"),
                    format!("{device_name} training set"),
                    ops.clone(),
                    "dataset",
                    Some(ctx.home_country),
                    Some("datacenter"),
                    &[],
                    stage,
                    None,
                ));
                flow(
                    &mut used_activities,
                    id("labels-back"),
                    "annotation",
                    id("labelling"),
                    id("dataset"),
                    &capture_data,
                    &downstream,
                    "copy",
                    tls(rng),
                );
                flow(
                    &mut used_activities,
                    id("curate"),
                    "curation",
                    id("db"),
                    id("dataset"),
                    &capture_data,
                    &downstream,
                    "copy",
                    M::new().b("pseudonymised", rng.chance(500)),
                );
            }
            6 => {
                sys_docs.push(system(
                    id("model"),
                    format!("{device_name} perception model"),
                    ops.clone(),
                    "model",
                    Some(ctx.home_country),
                    Some("datacenter"),
                    &[],
                    stage,
                    None,
                ));
                flow(
                    &mut used_activities,
                    id("train"),
                    "training",
                    id("dataset"),
                    id("model"),
                    &capture_data,
                    &downstream,
                    "copy",
                    M::new(),
                );
                flow(
                    &mut used_activities,
                    id("inference"),
                    "capture",
                    id("cloud"),
                    id("model"),
                    &capture_data,
                    &downstream,
                    "copy",
                    tls(rng),
                );
            }
            7 => {
                sys_docs.push(system(
                    id("companion"),
                    companion_name.clone(),
                    ops.clone(),
                    "device",
                    None,
                    location,
                    &companion_sensors,
                    stage,
                    None,
                ));
                let companion_subjects = if companion_sensors.contains(&"camera") {
                    everyone.as_slice()
                } else {
                    only_users.as_slice()
                };
                flow(
                    &mut used_activities,
                    id("companion-capture"),
                    "capture",
                    users.clone(),
                    id("companion"),
                    &companion_data,
                    companion_subjects,
                    "copy",
                    M::new(),
                );
                flow(
                    &mut used_activities,
                    id("companion-sync"),
                    "capture",
                    id("companion"),
                    id("app"),
                    &companion_data,
                    companion_subjects,
                    "copy",
                    tls(rng).b("redacted", upload_redacted),
                );
            }
            8 => {
                sys_docs.push(system(
                    id("portal"),
                    format!("{device_name} customer portal"),
                    ops.clone(),
                    "web_app",
                    Some(ctx.home_country),
                    Some("online"),
                    &[],
                    "production",
                    None,
                ));
                let enrol: &[&str] = if testers {
                    &[
                        "user.name",
                        "user.contact.email",
                        "user.contact.address",
                        "user.financial.bank_account",
                    ]
                } else {
                    &[
                        "user.name",
                        "user.contact.email",
                        "user.contact.address",
                        "user.payment",
                    ]
                };
                flow(
                    &mut used_activities,
                    id("enrol"),
                    "enrolment",
                    users.clone(),
                    id("portal"),
                    enrol,
                    &only_users,
                    "copy",
                    M::new(),
                );
                flow(
                    &mut used_activities,
                    id("enrol-store"),
                    "enrolment",
                    id("portal"),
                    id("db"),
                    enrol,
                    &only_users,
                    "copy",
                    tls(rng),
                );
            }
            _ => {
                sys_docs.push(system(
                    id("helpdesk"),
                    format!("{device_name} helpdesk"),
                    pid(support),
                    "cloud_service",
                    Some(support_country),
                    Some("datacenter"),
                    &[],
                    "production",
                    secure(rng, p / 2),
                ));
                flow(
                    &mut used_activities,
                    id("tickets"),
                    "support",
                    users.clone(),
                    id("helpdesk"),
                    &["user.name", "user.contact.email", "user.device.device_id"],
                    &only_users,
                    "copy",
                    M::new(),
                );
                match tier2 {
                    Some(t) => flow(
                        &mut used_activities,
                        id("tier2"),
                        "support",
                        id("helpdesk"),
                        pid(t),
                        &["user.name", "user.contact.email", "user.device.device_id"],
                        &only_users,
                        "remote_access",
                        tls(rng),
                    ),
                    None => flow(
                        &mut used_activities,
                        id("ticket-sync"),
                        "support",
                        id("db"),
                        id("helpdesk"),
                        &["user.name", "user.device.device_id"],
                        &only_users,
                        "copy",
                        tls(rng),
                    ),
                }
            }
        }
    }

    // --- Consent. -----------------------------------------------------------------------------
    let consent_id = id("consent");
    let capture_basis = match product {
        Product::Vacuum if testers => "consent",
        Product::Vacuum | Product::IndoorCam | Product::Speaker => "contract",
        Product::Wearable => "consent",
        Product::SiteCam => "legitimate_interests",
    };
    let sharing_role = pool.parties[recipient].role;
    let sharing_basis = match sharing_role {
        "public_authority" => "legal_obligation",
        "joint_controller" => "consent",
        _ if rng.chance(500) => "consent",
        _ => "legitimate_interests",
    };
    let training_basis = if rng.chance(650) {
        "consent"
    } else {
        "legitimate_interests"
    };
    // A common mistake: analytics "necessary for the contract".
    let analytics_basis = if rng.chance(p / 2) {
        "contract"
    } else {
        "legitimate_interests"
    };
    let basis_of = |a: &str| -> &'static str {
        match a {
            "capture" => capture_basis,
            "app" | "enrolment" => "contract",
            "support" => "contract",
            "sharing" => sharing_basis,
            "analytics" => analytics_basis,
            "annotation" | "curation" | "training" => training_basis,
            _ => "contract",
        }
    };
    // Special-category data rely on explicit consent (Art. 9(2)(a)) whatever the Art. 6 basis.
    let carries_special =
        |a: &str| special && matches!(a, "capture" | "annotation" | "curation" | "training");
    // Site badge readers rely on a works agreement (Art. 9(2)(b)) instead.
    let art9_kind = if product == Product::SiteCam {
        "employment_law"
    } else {
        "explicit_consent"
    };
    let uses_consent = |a: &str| {
        basis_of(a) == "consent" || (carries_special(a) && art9_kind == "explicit_consent")
    };
    let consented: Vec<&str> = used_activities
        .iter()
        .copied()
        .filter(|a| uses_consent(a))
        .collect();
    if !consented.is_empty() {
        let mut purposes: Vec<String> = Vec::new();
        for a in &consented {
            // Training purposes are sometimes missing from an older consent text.
            if matches!(*a, "annotation" | "curation" | "training") && rng.chance(p / 2) {
                continue;
            }
            purposes.push(format!("{pre}-{}", activity_slug(a)));
        }
        let mut recipients: Vec<String> = Vec::new();
        if consented.contains(&"capture") && roles > 0 {
            recipients.push(pid(cloud));
        }
        if consented.contains(&"sharing") {
            recipients.push(pid(recipient));
        }
        if consented.contains(&"annotation") && roles > 4 {
            if !rng.chance(p / 2) {
                recipients.push(pid(labeller));
            }
            if let Some(c) = crowd {
                let mut chain = vec![c];
                let mut at = c;
                while let Some(e) = pool.parties[at].engaged_by {
                    if e == labeller {
                        break;
                    }
                    chain.push(e);
                    at = e;
                }
                if !rng.chance(p + 100) {
                    for c in chain.iter().rev() {
                        recipients.push(pid(*c));
                    }
                }
            }
        }
        let reviewed = consented.contains(&"annotation");
        let abroad = [cloud, labeller]
            .iter()
            .chain(crowd.iter())
            .any(|&i| !is_eea(pool.parties[i].country));
        out.consents.push(
            M::new()
                .w("id", consent_id.clone())
                .s(
                    "name",
                    if testers {
                        format!("{device_name} test programme agreement")
                    } else {
                        format!("{device_name} data consent")
                    },
                )
                .words("subjects", std::slice::from_ref(&users))
                .words("purposes", &purposes)
                .words("recipients", &recipients)
                .m(
                    "covers",
                    M::new()
                        .b("human_review", reviewed && !rng.chance(p + 100))
                        .b("ai_training", !rng.chance(p / 2))
                        .b("third_country_transfer", abroad && !rng.chance(p + 100))
                        .b("special_categories", special && !rng.chance(p / 2)),
                )
                .b("explicit", !rng.chance(p / 3))
                .w(
                    "freely_given_risk",
                    if testers {
                        "incentive"
                    } else if product == Product::SiteCam {
                        "employment"
                    } else {
                        "none"
                    },
                )
                .b("bundled_with_terms", rng.chance(p / 2))
                .b("records_kept", !rng.chance(p / 3))
                .w("collected_by", ctx.controller)
                .m(
                    "withdrawal",
                    M::new()
                        .b("mechanism", true)
                        .b("as_easy_as_giving", !rng.chance(p))
                        .b("deletes_data", !rng.chance(p)),
                ),
        );
    }

    // --- Activities. --------------------------------------------------------------------------
    let abroad_parties: Vec<usize> = [cloud, support, analytics, labeller, recipient]
        .into_iter()
        .chain(crowd)
        .chain(tier2)
        .filter(|&i| !is_eea(pool.parties[i].country))
        .collect();
    // How the devices collect, shared by the capture and the activities downstream of it.
    let cap_outside = rng.chance(p / 2);
    let cap_interval = if rng.chance(p + 100) {
        *rng.pick(&[1, 5, 10, 30])
    } else {
        *rng.pick(&[60, 120, 300])
    };
    let cap_kept = rng.chance(p);
    let cap_event = rng.chance(500);
    const ORDER: [&str; 9] = [
        "capture",
        "app",
        "enrolment",
        "support",
        "analytics",
        "sharing",
        "curation",
        "annotation",
        "training",
    ];
    used_activities.sort_by_key(|a| ORDER.iter().position(|o| o == a));
    for &a in &used_activities {
        let basis = basis_of(a);
        let media_activity = matches!(a, "capture" | "annotation" | "curation" | "training");
        let (name, purpose, category): (String, &str, &str) = match a {
            "capture" => (
                format!("{device_name}: capture and cloud processing"),
                match product {
                    Product::Vacuum if testers => {
                        "Collect images and floor maps from testers' homes to develop navigation"
                    }
                    Product::Vacuum => "Map rooms and avoid obstacles while cleaning",
                    Product::IndoorCam => "Record and show motion-triggered clips to the owner",
                    Product::Wearable => "Track activity, heart rate and routes for the owner",
                    Product::Speaker => "Answer spoken requests after the wake word",
                    Product::SiteCam if staff_monitoring => {
                        "Monitor staff attendance and productivity at the sites"
                    }
                    Product::SiteCam => "Protect staff, visitors and premises at the sites",
                },
                match product {
                    Product::SiteCam if staff_monitoring => "worker_monitoring",
                    Product::SiteCam => "security",
                    Product::Vacuum if testers => "product_improvement",
                    _ => "service",
                },
            ),
            "app" => (
                format!("{device_name}: companion app accounts"),
                "Run the user account, pairing and settings of the companion app",
                "service",
            ),
            "support" => (
                format!("{device_name}: customer support"),
                "Answer support tickets and troubleshoot devices remotely",
                "service",
            ),
            "sharing" => (
                format!(
                    "{device_name}: sharing with {}",
                    pool.parties[recipient].name
                ),
                match sharing_role {
                    "public_authority" => {
                        "Hand recordings and device data to the police on a legal request"
                    }
                    "joint_controller" => "Joint research on device usage with a university",
                    _ => "Share usage data with a partner for discounts and offers",
                },
                match sharing_role {
                    "public_authority" => "law_enforcement_support",
                    "joint_controller" => "research",
                    _ => {
                        if rng.chance(500) {
                            "advertising"
                        } else {
                            "other"
                        }
                    }
                },
            ),
            "analytics" => (
                format!("{device_name}: product analytics"),
                "Measure feature use and reliability across the fleet",
                "analytics",
            ),
            "annotation" => (
                format!("{device_name}: human annotation"),
                match product {
                    Product::Wearable => "Have heart-rate and route traces labelled by annotators",
                    Product::Speaker => {
                        "Have voice requests transcribed and labelled by annotators"
                    }
                    _ => "Have captured frames and clips labelled by human annotators",
                },
                "ai_training",
            ),
            "curation" => (
                format!("{device_name}: training-set curation"),
                "Select and store captured data as a training and test set",
                "ai_training",
            ),
            "training" => (
                format!("{device_name}: model training"),
                "Train and evaluate the on-device perception model",
                "ai_training",
            ),
            _ => (
                format!("{device_name}: enrolment and billing"),
                "Sign customers or testers up, ship devices and take payment",
                "service",
            ),
        };
        let mut m = M::new()
            .w("id", format!("{pre}-{}", activity_slug(a)))
            .s("name", name)
            .s("purpose", purpose)
            .w("purpose_category", category)
            .w("legal_basis", basis);
        // Legal basis details.
        let needs_consent = uses_consent(a);
        if needs_consent {
            m = m.w("consent", consent_id.clone());
        }
        if basis == "legitimate_interests" {
            let mut lia = M::new().b("documented", !rng.chance(p));
            if !rng.chance(p / 6) {
                lia = lia.w("outcome", if rng.chance(p / 3) { "fail" } else { "pass" });
            }
            m = m.m("lia", lia);
        }
        if basis == "legal_obligation" {
            m = m.s(
                "basis_law",
                if rng.chance(p) {
                    "none"
                } else {
                    "Code of criminal procedure, production orders"
                },
            );
        }
        let art9 = if carries_special(a) && !rng.chance(p / 2) {
            art9_kind
        } else {
            "none"
        };
        m = m.w("art9_condition", art9);
        if art9 == "employment_law" {
            m = m.s(
                "art9_law",
                if rng.chance(p / 2) {
                    "none"
                } else {
                    "Works agreement on biometric access control under national employment law"
                },
            );
        }
        if a == "curation" {
            m = m.s(
                "original_purpose",
                "Provide the device's features to its owner",
            );
            m = m.b("compatibility_assessed", !rng.chance(p));
        }
        m = m.w(
            "biometric_use",
            if media_activity || (a == "app" && product == Product::Wearable) {
                biometric_use
            } else {
                "none"
            },
        );
        // Collection. Activities downstream of the capture restate how their data were
        // collected (the rules on sampling, wake words and accidental capture read them).
        let mut c = M::new();
        if media_activity {
            let channel = match (a, product) {
                ("capture", Product::SiteCam) => "cctv",
                ("capture", Product::Speaker) => "microphone",
                ("capture", _) => "device",
                _ => "api",
            };
            c = c
                .w("channel", channel)
                .b("continuous", product != Product::Speaker)
                .b(
                    "captures_non_users",
                    captures_non_users && (a == "capture" || !upload_redacted),
                )
                .b("active_outside_service", cap_outside);
            if product == Product::Wearable {
                c = c.n("sampling_interval_s", cap_interval);
            }
            if matches!(product, Product::Speaker | Product::IndoorCam) {
                let gated = product == Product::Speaker;
                c = c.b("wake_word_gated", gated);
                if gated {
                    c = c.b("accidental_capture_kept", cap_kept);
                }
            }
            if matches!(product, Product::IndoorCam | Product::SiteCam) {
                c = c.b("event_triggered", cap_event);
            }
            c = c.b("large_scale", !testers && approx_users >= 100_000);
            if a == "capture" {
                c = c.n("volume", rng.range(10, 5000) * 1000);
            }
        } else {
            c = c
                .w(
                    "channel",
                    match a {
                        "app" => "app",
                        "enrolment" | "support" => "web",
                        _ => "api",
                    },
                )
                .b("continuous", false)
                .b("captures_non_users", false)
                .b(
                    "active_outside_service",
                    a == "app" && product == Product::Wearable && rng.chance(p / 2),
                )
                .b("large_scale", a == "analytics" && approx_users >= 100_000);
            if a == "app" && product == Product::Wearable {
                c = c.n("sampling_interval_s", if rng.chance(p) { 15 } else { 300 });
            }
        }
        m = m.m("collection", c).b("occasional", false);
        if a == "app" {
            let necessary = rng.chance(500);
            m = m.m(
                "terminal_access",
                M::new()
                    .b("reads_or_writes_device", true)
                    .b("strictly_necessary", necessary)
                    .b("consent", necessary || !rng.chance(p)),
            );
        }
        m = m
            .b(
                "profiling",
                matches!(a, "analytics" | "sharing") && rng.chance(400),
            )
            .b("combines_datasets", a == "sharing" && rng.chance(300));
        let scoring = a == "sharing" && sharing_role == "controller" && rng.chance(200);
        let mut ad = M::new()
            .b("solely_automated", scoring)
            .b("significant_effect", scoring);
        if scoring {
            ad = ad
                .w("exception", if rng.chance(p) { "none" } else { "contract" })
                .b("human_intervention", !rng.chance(p))
                .b("contest", !rng.chance(p));
        }
        m = m.m("automated_decision", ad);
        // Human review.
        let reviewed = match a {
            "annotation" => true,
            "capture" => product == Product::Speaker && rng.chance(400),
            _ => false,
        };
        if reviewed {
            let by = match a {
                "annotation" => {
                    if crowd.is_some() {
                        "crowd"
                    } else {
                        "processor"
                    }
                }
                _ => "employee",
            };
            m = m.m(
                "human_review",
                M::new()
                    .b("performed", true)
                    .w("by", by)
                    .b("disclosed", !rng.chance(p + 100))
                    .b(
                        "redaction_before_review",
                        upload_redacted || !rng.chance(p + 200),
                    )
                    .ob(
                        "confidentiality_binding",
                        (!rng.chance(p / 6)).then(|| !rng.chance(p)),
                    )
                    .b("can_export", rng.chance(p))
                    .w(
                        "access_scope",
                        if rng.chance(p) {
                            "broad"
                        } else {
                            "need_to_know"
                        },
                    ),
            );
        } else {
            m = m.m("human_review", M::new().b("performed", false));
        }
        // Retention.
        let period = if rng.chance(p / 2) {
            "indefinite".to_string()
        } else {
            match a {
                "enrolment" => "P6Y".to_string(),
                "capture" | "app" | "support" => format!("P{}M", rng.pick(&[1, 3, 6, 12])),
                _ => format!("P{}Y", rng.range(1, 5)),
            }
        };
        let r = M::new()
            .w("period", period)
            .s(
                "justification",
                match a {
                    "enrolment" => "Commercial and tax record-keeping duties",
                    "training" | "curation" | "annotation" => {
                        "Retraining and regression tests of shipped models"
                    }
                    "analytics" => "Comparison of reliability across product generations",
                    "sharing" => "Term of the partner agreement",
                    _ => "Needed to provide and troubleshoot the service",
                },
            )
            .b("deletion_propagates", !rng.chance(p));
        m = m.m("retention", r);
        // DPIA.
        let high_risk = media_activity || special || a == "sharing";
        let status = if high_risk {
            if rng.chance(p) {
                *rng.pick(&["not_done", "in_progress", "inadequate"])
            } else {
                "done"
            }
        } else if rng.chance(600) {
            "not_required"
        } else {
            "done"
        };
        let mut d = M::new().w("status", status);
        if matches!(status, "done" | "inadequate") {
            let residual = rng.chance(120);
            d = d
                .ob(
                    "necessity_assessed",
                    (!rng.chance(p / 8)).then(|| !rng.chance(p / 2)),
                )
                .b("risk_analysis", !rng.chance(p / 3))
                .b("residual_high_risk", residual);
            if residual {
                d = d.b("prior_consultation", !rng.chance(p + 200));
            }
        }
        m = m.m("dpia", d);
        m = m.m(
            "defaults",
            M::new()
                .b("public_by_default", rng.chance(p / 8))
                .b(
                    "optional_features_on",
                    matches!(a, "capture" | "app" | "sharing") && rng.chance(p),
                )
                .b("deceptive_design", rng.chance(p / 8)),
        );
        // Notice overrides: what this activity's own notice leaves out or gets wrong.
        let mut notice = M::new();
        let mut deficient: Vec<&str> = Vec::new();
        if rng.chance(p / 2) {
            deficient.push("recipients");
        }
        if reviewed && rng.chance(p) {
            deficient.push("human_review");
        }
        if !abroad_parties.is_empty() && rng.chance(p / 2) {
            deficient.push("transfers");
        }
        if !deficient.is_empty() {
            notice = notice.words("deficient_items", &deficient);
        }
        if a == "capture" && captures_non_users {
            notice = notice
                .b("indirect_informed", !rng.chance(p + 250))
                .b("signage", !rng.chance(p));
        }
        if !notice.0.is_empty() {
            m = m.m("notice", notice);
        }
        // Children.
        let children_here =
            others.iter().any(|s| s.ends_with("-children")) && media_activity && !upload_redacted;
        if children_here || teen_users || product.home() {
            let robust = rng.chance(1000 - p - 300);
            m = m.m(
                "children",
                M::new()
                    .b("directed_at_children", false)
                    .b("likely_accessed", teen_users)
                    .w(
                        "age_verification",
                        if robust { "robust" } else { "self_declaration" },
                    )
                    .b("parental_consent", robust || !rng.chance(p)),
            );
        }
        if a == "training" {
            let claimed = rng.chance(500);
            m = m.m(
                "anonymisation",
                if claimed {
                    M::new()
                        .b("claimed", true)
                        .s("method", "Model weights assumed to hold no personal data")
                        .b("reidentification_tested", !rng.chance(p + 100))
                } else {
                    M::new().b("claimed", false)
                },
            );
            m = m.m(
                "ai_act",
                M::new()
                    .w("role", "provider")
                    .words::<&str>("practices", &[])
                    .words::<&str>("annex_iii", &[]),
            );
        }
        out.activities.push(m);
    }

    // Keep only the data-subject groups some flow names.
    out.subjects.extend(people.into_iter().filter(|m| {
        let id = match &m.0[0].1 {
            V::Word(w) => w.as_str(),
            _ => "",
        };
        id == users || roles > 1
    }));
    out.systems.extend(sys_docs);
    out.flows.extend(flows);
}

// ------------------------------------------------------------------------------------------------
// The controller and organisation-wide documents.

fn organisation(seed: u64, systems: usize, controller: &str, country: &'static str) -> String {
    let mut rng = Rng::new(seed, u64::MAX);
    let rng = &mut rng;
    let name = format!("Brightnest Devices {}", legal_suffix(country));
    let doc = M::new()
        .w("id", controller)
        .s("name", name)
        .s("country", country)
        .b("eea_establishment", true)
        .b("targets_eea", true)
        .b("public_authority", false)
        .m(
            "dpo",
            M::new()
                .b("designated", true)
                .b("contact_published", !rng.chance(200)),
        )
        .n("employees", 200 + systems as u64 * 3)
        .n("annual_turnover_eur", 50_000_000 + systems as u64 * 400_000);
    let mut langs = vec!["en", language(country)];
    langs.dedup();
    let mut audience = langs.clone();
    if rng.chance(300) {
        audience.push("it");
    }
    let notice = M::new()
        .b("exists", true)
        .words("languages", &langs)
        .words("audience_languages", &audience)
        .b("layered", true)
        .b("signage", true)
        .words(
            "items",
            &[
                "identity",
                "dpo_contact",
                "purposes",
                "legal_basis",
                "legitimate_interests",
                "recipients",
                "transfers",
                "retention",
                "rights",
                "withdraw_consent",
                "complaint",
                "statutory_requirement",
                "automated_decisions",
                "source",
                "human_review",
            ],
        )
        .words::<&str>("deficient_items", &[])
        .b("adapted_for_children", rng.chance(500))
        .b("indirect_informed", true)
        .w("art14_exemption", "none");
    let mut requests = Vec::new();
    for i in 0..(systems / 40).max(1) {
        let kind = *rng.pick(&[
            "access",
            "erasure",
            "objection",
            "rectification",
            "portability",
        ]);
        let received_month = rng.range(1, 10);
        let day = rng.range(1, 28);
        let late = rng.chance(300);
        let answered_month = if late {
            received_month + 2
        } else {
            received_month
        };
        requests.push(
            M::new()
                .w("id", format!("request-{:04}", i + 1))
                .w("kind", kind)
                .s("received", format!("2025-{received_month:02}-{day:02}"))
                .s(
                    "answered",
                    format!(
                        "2025-{answered_month:02}-{:02}",
                        if late { day } else { 28 }
                    ),
                )
                .b("complete", !rng.chance(150)),
        );
    }
    let rights = M::new()
        .m(
            "access",
            M::new()
                .b("process", true)
                .n("max_days", 30)
                .strs::<&str>("restrictions", &[])
                .b("complete", true),
        )
        .m(
            "erasure",
            M::new()
                .b("process", true)
                .b("propagates_to_recipients", true)
                .b("complete", true),
        )
        .m("objection", M::new().b("process", true))
        .m("rectification", M::new().b("process", true))
        .m("portability", M::new().b("process", true))
        .m("restriction", M::new().b("process", true))
        .items("requests", requests);
    let security = M::new()
        .b("encryption_at_rest", true)
        .b("encryption_in_transit", true)
        .b("access_logging", true)
        .b("mfa_staff", true)
        .b("mfa_users", !rng.chance(300))
        .b("least_privilege", true)
        .b("shared_accounts", false)
        .b("export_controls", true)
        .b("staff_training", true);
    let mut breaches = Vec::new();
    for i in 0..(systems / 250 + 1) {
        let risk = *rng.pick(&["none", "risk", "high_risk"]);
        let notified = risk == "none" || !rng.chance(350);
        let mut b = M::new()
            .w("id", format!("breach-{:03}", i + 1))
            .s("date", date(rng, 2023, 2025))
            .w("risk", risk);
        b = if notified && risk != "none" {
            b.n(
                "authority_notified_hours",
                *rng.pick(&[20, 48, 70, 96, 200]),
            )
        } else {
            b.null("authority_notified_hours")
        };
        breaches.push(
            b.b("subjects_informed", risk != "high_risk" || !rng.chance(400))
                .b("documented", !rng.chance(200)),
        );
    }
    let mut orders = Vec::new();
    for i in 0..(systems / 500 + 1) {
        let status = *rng.pick(&["answered", "complied", "complied", "open"]);
        let kind = if rng.chance(600) { "request" } else { "order" };
        orders.push(
            M::new()
                .w("id", format!("order-{:03}", i + 1))
                .s("authority", "Lead supervisory authority")
                .w("kind", kind)
                .s("issued", date(rng, 2024, 2024))
                .s("deadline", date(rng, 2025, 2025))
                .w("status", status)
                .n(
                    "penalty_per_day_eur",
                    if kind == "order" { 5000 } else { 0 },
                ),
        );
    }
    let waivers = vec![
        M::new()
            .w("rule", "GDPR-ART30-ROPA-INCOMPLETE")
            .w("subject", controller)
            .s(
                "reason",
                "Record of processing being migrated to the new register; complete by Q2",
            )
            .s("approved_by", "DPO")
            .s("expires", "2027-06-30"),
    ];
    let records = M::new().b("exists", true).b("complete", rng.chance(300));
    document(
        &format!(
            "The controller and its organisation-wide facts.\n\
             Generated by `cargo run --example generate -- --systems {systems} --seed {seed}`."
        ),
        vec![
            (
                "The organisation whose processing is audited.",
                "controller",
                V::Map(doc),
            ),
            (
                "The privacy notice; activities override it key by key.",
                "notice",
                V::Map(notice),
            ),
            (
                "Rights processes and individual requests.",
                "rights",
                V::Map(rights),
            ),
            (
                "Organisation-wide security measures; systems may override them.",
                "security",
                V::Map(security),
            ),
            (
                "Art. 30 record kept in the DPO's register.",
                "records",
                V::Map(records),
            ),
            (
                "Personal-data breaches on file.",
                "breaches",
                V::Items(breaches),
            ),
            (
                "Requests and orders from supervisory authorities.",
                "orders",
                V::Items(orders),
            ),
            ("Accepted risks.", "waivers", V::Items(waivers)),
        ],
    )
}

/// Generates the workspace for `systems` systems (`2 * systems` flows) from `seed`: the relative
/// path and the contents of each file, in a fixed order.
pub fn generate(systems: usize, seed: u64) -> Vec<(String, String)> {
    build(systems, seed).0
}

/// How many elements of each kind were generated.
#[derive(Debug, Default)]
pub struct Counts {
    pub systems: usize,
    pub flows: usize,
    pub parties: usize,
    pub activities: usize,
    pub data_subjects: usize,
    pub consents: usize,
}

/// [`generate`], with the counts of what was written.
pub fn build(systems: usize, seed: u64) -> (Vec<(String, String)>, Counts) {
    let mut files = Vec::new();
    let mut counts = Counts::default();
    let controller = "brightnest";
    let home_country = *Rng::new(seed, u64::MAX - 1).pick(&["DE", "FR", "NL", "IE", "SE"]);
    files.push((
        "organisation.flow.yaml".to_string(),
        organisation(seed, systems, controller, home_country),
    ));
    files.push((
        "taxonomy.flow.yaml".to_string(),
        document(
            "Workspace additions to the data-category taxonomy.",
            vec![(
                "Usage telemetry of the devices is not in the built-in taxonomy.",
                "taxonomy",
                V::Items(vec![
                    M::new()
                        .w("id", "user.telemetry.usage")
                        .w("parent", "user.telemetry")
                        .s(
                            "name",
                            "Device usage events (cleaning runs, clips viewed, commands)",
                        )
                        .w("special", "none")
                        .b("art10", false)
                        .b("highly_personal", false),
                ]),
            )],
        ),
    ));
    let pool = Pool::build(systems, seed);
    counts.parties = pool.parties.len();
    for (c, chunk) in pool.parties.chunks(200).enumerate() {
        files.push((
            format!("parties/parties-{c:04}.flow.yaml"),
            document(
                "Vendors, their subprocessors and the other organisations data reach.",
                vec![(
                    "Processors are engaged under DPAs; subprocessors name who engaged them.",
                    "parties",
                    V::Items(chunk.iter().map(|p| p.doc.clone()).collect()),
                )],
            ),
        ));
    }
    let ctx = Ctx {
        pool: &pool,
        controller,
        home_country,
    };
    let programmes = systems.div_ceil(10);
    for b in 0..programmes.div_ceil(10) {
        let mut block = Block::default();
        for k in b * 10..((b + 1) * 10).min(programmes) {
            let here = (systems - k * 10).min(10);
            programme(&ctx, k, here, seed, &mut block);
        }
        counts.systems += block.systems.len();
        counts.flows += block.flows.len();
        counts.activities += block.activities.len();
        counts.data_subjects += block.subjects.len();
        counts.consents += block.consents.len();
        let dir = format!("programmes/block-{b:04}");
        let mut people = vec![(
            "The people whose data the programmes process.",
            "data_subjects",
            V::Items(block.subjects),
        )];
        if !block.consents.is_empty() {
            people.push((
                "Consent instruments and exactly what each covers.",
                "consents",
                V::Items(block.consents),
            ));
        }
        files.push((
            format!("{dir}/people.flow.yaml"),
            document("Data subjects and consents of these programmes.", people),
        ));
        files.push((
            format!("{dir}/activities.flow.yaml"),
            document(
                "Processing activities of these programmes.",
                vec![(
                    "One activity per purpose; the unit of the Art. 30 record and of DPIAs.",
                    "activities",
                    V::Items(block.activities),
                )],
            ),
        ));
        files.push((
            format!("{dir}/systems.flow.yaml"),
            document(
                "Systems of these programmes and the flows between them.",
                vec![
                    (
                        "Devices, apps, clouds, tools, datasets, models.",
                        "systems",
                        V::Items(block.systems),
                    ),
                    (
                        "Edges of the data-flow graph (two per system).",
                        "flows",
                        V::Items(block.flows),
                    ),
                ],
            ),
        ));
    }
    (files, counts)
}

// ------------------------------------------------------------------------------------------------

const USAGE: &str =
    "usage: cargo run --release --example generate -- --systems N [--seed S] --out DIR

Writes a deterministic flowaudit workspace of N systems and 2N flows into DIR (created; must be
empty). The same N and seed (default 1) always give the same bytes.";

/// About 2 GB of YAML: more would rather exhaust memory than test anything.
const MAX_SYSTEMS: usize = 1_000_000;

fn usage_error(message: &str) -> ! {
    eprintln!("error: {message}\n\n{USAGE}");
    std::process::exit(2)
}

struct Args {
    systems: usize,
    seed: u64,
    out: PathBuf,
}

fn parse_args(mut args: impl Iterator<Item = String>) -> Args {
    let (mut systems, mut seed, mut out) = (None, 1u64, None);
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
            _ => (arg.clone(), None),
        };
        let mut value = |name: &str| -> String {
            inline
                .clone()
                .or_else(|| args.next())
                .unwrap_or_else(|| usage_error(&format!("{name} needs a value")))
        };
        match flag.as_str() {
            "--systems" => {
                let v = value("--systems");
                match v.parse::<usize>() {
                    Ok(n) if (1..=MAX_SYSTEMS).contains(&n) => systems = Some(n),
                    _ => usage_error(&format!(
                        "--systems takes an integer from 1 to {MAX_SYSTEMS}, not `{v}`"
                    )),
                }
            }
            "--seed" => {
                let v = value("--seed");
                seed = v.parse().unwrap_or_else(|_| {
                    usage_error(&format!("--seed takes an integer, not `{v}`"))
                });
            }
            "--out" => out = Some(PathBuf::from(value("--out"))),
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0)
            }
            other => usage_error(&format!("unexpected argument `{other}`")),
        }
    }
    Args {
        systems: systems.unwrap_or_else(|| usage_error("--systems is required")),
        seed,
        out: out.unwrap_or_else(|| usage_error("--out is required")),
    }
}

/// Writes the files under `dir`, which must not exist or be empty.
pub fn write_workspace(dir: &Path, files: &[(String, String)]) -> std::io::Result<()> {
    if let Ok(mut entries) = std::fs::read_dir(dir)
        && entries.next().is_some()
    {
        return Err(std::io::Error::new(
            std::io::ErrorKind::AlreadyExists,
            format!(
                "{} is not empty; choose a new or empty directory",
                dir.display()
            ),
        ));
    }
    for (path, text) in files {
        let path = dir.join(path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&path, text)?;
    }
    Ok(())
}

fn main() {
    let args = parse_args(std::env::args_os().skip(1).map(|a| {
        a.into_string()
            .unwrap_or_else(|a| usage_error(&format!("argument {a:?} is not UTF-8")))
    }));
    if let Ok(mut entries) = std::fs::read_dir(&args.out)
        && entries.next().is_some()
    {
        usage_error(&format!(
            "{} is not empty; choose a new or empty directory",
            args.out.display()
        ));
    }
    let started = std::time::Instant::now();
    let (files, counts) = build(args.systems, args.seed);
    if let Err(e) = write_workspace(&args.out, &files) {
        eprintln!("error: cannot write {}: {e}", args.out.display());
        std::process::exit(1);
    }
    let bytes: usize = files.iter().map(|(_, t)| t.len()).sum();
    eprintln!(
        "wrote {}: {} systems, {} flows, {} parties, {} activities, {} data subjects, {} consents \
         ({} files, {} KiB, seed {}, {} ms)",
        args.out.display(),
        counts.systems,
        counts.flows,
        counts.parties,
        counts.activities,
        counts.data_subjects,
        counts.consents,
        files.len(),
        bytes / 1024,
        args.seed,
        started.elapsed().as_millis()
    );
}
