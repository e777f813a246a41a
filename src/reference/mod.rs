//! Reference data shipped with the tool (`rules/reference/*.yaml`, embedded): the data-category
//! taxonomy, ISO country codes, EEA members and adequacy decisions. Legal data live in those files,
//! each with its source and as-of date, not in Rust.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use serde::Deserialize;

use crate::embedded;
use crate::loading::yaml;

/// An Art. 9(1) special category kind.
pub const SPECIAL_KINDS: &[&str] = &[
    "racial_ethnic",
    "political",
    "religious_philosophical",
    "trade_union",
    "genetic",
    "biometric",
    "health",
    "sex_life_orientation",
    "none",
];

/// One data category of the taxonomy.
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct Category {
    pub id: String,
    #[serde(default)]
    pub parent: Option<String>,
    pub name: String,
    /// Art. 9(1) kind set on this node (`none` clears an inherited one).
    #[serde(default)]
    pub special: Option<String>,
    #[serde(default)]
    pub art10: Option<bool>,
    #[serde(default)]
    pub highly_personal: Option<bool>,
    /// `fides` (unchanged Fides key) or `flowaudit` (our addition); `workspace` for user additions.
    #[serde(default = "origin_workspace")]
    pub origin: String,
    #[serde(default)]
    pub description: Option<String>,
}

fn origin_workspace() -> String {
    "workspace".to_string()
}

#[derive(Debug, Deserialize)]
struct TaxonomyFile {
    categories: Vec<Category>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct Country {
    pub code: String,
    pub name: String,
}

#[derive(Debug, Deserialize)]
struct CountriesFile {
    countries: Vec<Country>,
    #[serde(default)]
    aliases: BTreeMap<String, String>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct EeaMember {
    pub code: String,
    pub name: String,
    pub eu: bool,
}

#[derive(Debug, Deserialize)]
struct EeaFile {
    members: Vec<EeaMember>,
}

/// An adequacy decision (Art. 45) and its scope.
#[derive(Clone, Debug, Deserialize)]
pub struct AdequacyDecision {
    pub country: String,
    pub name: String,
    #[serde(default)]
    pub decision: Option<String>,
    #[serde(default)]
    pub adopted: Option<String>,
    #[serde(default)]
    pub expires: Option<String>,
    /// `in_force` or `pending`.
    pub status: String,
    /// `whole`, `dpf_certified`, `commercial`, `private_sector_supplementary_rules`, ...
    pub scope: String,
    #[serde(default)]
    pub scope_note: Option<String>,
}

#[derive(Debug, Deserialize)]
struct AdequacyFile {
    decisions: Vec<AdequacyDecision>,
}

/// All reference data, parsed once.
#[derive(Debug)]
pub struct Reference {
    /// Built-in categories in file order.
    pub categories: Vec<Category>,
    /// ISO 3166-1 alpha-2 codes with names.
    pub countries: BTreeMap<String, String>,
    /// Common non-ISO spellings (`UK`, `EL`) and the code meant.
    pub country_aliases: BTreeMap<String, String>,
    pub eea: Vec<EeaMember>,
    pub eea_codes: BTreeSet<String>,
    pub adequacy: Vec<AdequacyDecision>,
    /// Every reference file by stem (`consent_ages`, `fine_tiers`, ...), as rules see it in `ref`.
    pub tables: BTreeMap<String, serde_json::Value>,
}

fn load<T: for<'de> Deserialize<'de>>(path: &str) -> T {
    // These files ship inside the binary and are checked by the test suite; a failure here is a
    // build defect, not a user error.
    let text = embedded::get(path).unwrap_or_else(|| panic!("embedded file {path} is missing"));
    let doc = yaml::parse(text, yaml::Limits::default())
        .unwrap_or_else(|e| panic!("{path}:{}: {}", e.range.start.line, e.message));
    serde_json::from_value(doc.value).unwrap_or_else(|e| panic!("{path}: {e}"))
}

impl Reference {
    /// The embedded reference data.
    pub fn get() -> &'static Reference {
        static REFERENCE: OnceLock<Reference> = OnceLock::new();
        REFERENCE.get_or_init(|| {
            let taxonomy: TaxonomyFile = load("rules/reference/taxonomy.yaml");
            let countries: CountriesFile = load("rules/reference/countries.yaml");
            let eea: EeaFile = load("rules/reference/eea.yaml");
            let adequacy: AdequacyFile = load("rules/reference/adequacy.yaml");
            Reference {
                categories: taxonomy.categories,
                countries: countries
                    .countries
                    .into_iter()
                    .map(|c| (c.code, c.name))
                    .collect(),
                country_aliases: countries.aliases,
                eea_codes: eea.members.iter().map(|m| m.code.clone()).collect(),
                eea: eea.members,
                adequacy: adequacy.decisions,
                tables: embedded::under("rules/reference/")
                    .filter(|(p, _)| p.ends_with(".yaml"))
                    .map(|(p, text)| {
                        let stem = p
                            .rsplit('/')
                            .next()
                            .unwrap_or(p)
                            .trim_end_matches(".yaml")
                            .to_string();
                        let doc = yaml::parse(text, yaml::Limits::default()).unwrap_or_else(|e| {
                            panic!("{p}:{}: {}", e.range.start.line, e.message)
                        });
                        (stem, doc.value)
                    })
                    .collect(),
            }
        })
    }

    pub fn is_country(&self, code: &str) -> bool {
        self.countries.contains_key(code)
    }

    /// A number from `tunables.yaml`, or the default when the file or key is absent.
    pub fn tunable(&self, key: &str, default: f64) -> f64 {
        self.tables
            .get("tunables")
            .and_then(|t| t.get(key))
            .and_then(serde_json::Value::as_f64)
            .unwrap_or(default)
    }

    /// The Art. 8(1) age of digital consent in an EEA state (`consent_ages.yaml`; 16 by default).
    pub fn consent_age(&self, country: &str) -> u64 {
        let t = self.tables.get("consent_ages");
        t.and_then(|t| t.get("ages"))
            .and_then(|a| a.get(country))
            .and_then(serde_json::Value::as_u64)
            .or_else(|| {
                t.and_then(|t| t.get("default"))
                    .and_then(serde_json::Value::as_u64)
            })
            .unwrap_or(16)
    }

    pub fn is_eea(&self, code: &str) -> bool {
        self.eea_codes.contains(code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn taxonomy_has_every_fides_key_unchanged() {
        let r = Reference::get();
        let tsv = include_str!("../../tests/data/fideslang-data-categories.tsv");
        let mut n = 0;
        for line in tsv.lines().skip(1) {
            let cols: Vec<&str> = line.split('\t').collect();
            let (key, parent, name) = (cols[0], cols[1], cols[2]);
            let c = r
                .categories
                .iter()
                .find(|c| c.id == key)
                .unwrap_or_else(|| panic!("{key} missing"));
            assert_eq!(c.parent.as_deref().unwrap_or(""), parent, "{key}");
            assert_eq!(c.name, name, "{key}");
            assert_eq!(c.origin, "fides", "{key}");
            n += 1;
        }
        assert_eq!(n, 85);
    }

    #[test]
    fn taxonomy_is_a_tree_with_valid_flags() {
        let r = Reference::get();
        let ids: BTreeSet<&str> = r.categories.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids.len(), r.categories.len(), "duplicate category id");
        for c in &r.categories {
            if let Some(p) = &c.parent {
                assert!(ids.contains(p.as_str()), "{}: parent {p} missing", c.id);
                assert!(c.id.starts_with(&format!("{p}.")), "{} under {p}", c.id);
            }
            if let Some(s) = &c.special {
                assert!(SPECIAL_KINDS.contains(&s.as_str()), "{}: {s}", c.id);
            }
        }
        for needed in [
            "user.content.image",
            "user.content.video",
            "user.content.audio",
            "user.sensor.home",
            "user.biometric.face",
            "user.biometric.voice",
            "user.biometric.iris",
            "user.location.precise",
        ] {
            assert!(ids.contains(needed), "{needed}");
        }
    }

    #[test]
    fn countries_eea_and_adequacy_are_consistent() {
        let r = Reference::get();
        assert_eq!(r.countries.len(), 249);
        assert_eq!(r.eea.len(), 30);
        assert_eq!(r.eea.iter().filter(|m| m.eu).count(), 27);
        for m in &r.eea {
            assert!(r.is_country(&m.code), "{}", m.code);
        }
        assert!(r.is_eea("NO") && r.is_eea("GR") && !r.is_eea("GB") && !r.is_eea("CH"));
        for (alias, code) in &r.country_aliases {
            assert!(
                !r.is_country(alias) && r.is_country(code),
                "{alias} -> {code}"
            );
        }
        for d in &r.adequacy {
            assert!(r.is_country(&d.country), "{}", d.country);
            assert!(!r.is_eea(&d.country), "{}", d.country);
            assert!(matches!(d.status.as_str(), "in_force" | "pending"));
        }
        let us = r.adequacy.iter().find(|d| d.country == "US").expect("US");
        assert_eq!(us.scope, "dpf_certified");
    }

    #[test]
    fn every_category_and_decision_is_documented() {
        let r = Reference::get();
        let doc = include_str!("../../docs/reference-data.md");
        for c in &r.categories {
            assert!(
                doc.contains(&format!("| `{}` |", c.id)),
                "{} not in docs/reference-data.md",
                c.id
            );
        }
        for d in &r.adequacy {
            assert!(
                doc.contains(&format!("| {} |", d.country)),
                "{} not in docs/reference-data.md",
                d.country
            );
        }
    }

    #[test]
    fn every_reference_file_is_sourced_dated_and_documented() {
        let r = Reference::get();
        let doc = include_str!("../../docs/reference-data.md");
        assert!(r.tables.len() >= 13);
        for (stem, table) in &r.tables {
            assert!(
                table
                    .get("source")
                    .and_then(|s| s.as_str())
                    .is_some_and(|s| !s.is_empty()),
                "{stem}: source"
            );
            let as_of = table
                .get("as_of")
                .and_then(|s| s.as_str())
                .unwrap_or_default();
            assert!(
                crate::loading::formats::is_partial_date(as_of),
                "{stem}: as_of {as_of}"
            );
            assert!(
                doc.contains(&format!("`{stem}.yaml`")),
                "{stem}.yaml not in docs/reference-data.md"
            );
        }
    }
}
