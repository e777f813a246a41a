//! Typed views of the elements of format version 1 (DESIGN §3).
//!
//! Each struct holds the fields that give the workspace its structure (names, roles, countries,
//! references); every other fact stays in the element's raw mapping, where the rule engine reads
//! it with the difference between "absent" (unknown) and "stated" intact. `Option` here means
//! "not stated".

use serde::Deserialize;

use super::NodeRef;

#[derive(Clone, Debug, Default, Deserialize)]
pub struct Controller {
    pub name: Option<String>,
    pub country: Option<String>,
    pub eea_establishment: Option<bool>,
    pub targets_eea: Option<bool>,
    pub public_authority: Option<bool>,
    pub employees: Option<u64>,
    pub annual_turnover_eur: Option<f64>,
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct Party {
    pub name: Option<String>,
    pub country: Option<String>,
    pub role: Option<String>,
    pub engaged_by: Option<String>,
    /// `engaged_by`, resolved.
    #[serde(skip)]
    pub engaged_by_ref: Option<NodeRef>,
    pub dpf_certified: Option<bool>,
    pub dpf_scope: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct System {
    pub name: Option<String>,
    pub operated_by: Option<String>,
    /// `operated_by`, resolved (the controller or a party).
    #[serde(skip)]
    pub operator: Option<NodeRef>,
    pub kind: Option<String>,
    pub country: Option<String>,
    pub location: Option<String>,
    #[serde(default)]
    pub sensors: Vec<String>,
    pub stage: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct DataSubject {
    pub name: Option<String>,
    pub category: Option<String>,
    #[serde(default)]
    pub countries: Vec<String>,
    pub min_age: Option<u64>,
    pub informed: Option<bool>,
    pub vulnerable: Option<bool>,
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct Consent {
    pub name: Option<String>,
    #[serde(default)]
    pub subjects: Vec<String>,
    #[serde(default)]
    pub purposes: Vec<String>,
    #[serde(default)]
    pub recipients: Vec<String>,
    pub collected_by: Option<String>,
    pub explicit: Option<bool>,
    /// `subjects`, `purposes`, `recipients` and `collected_by`, resolved.
    #[serde(skip)]
    pub subject_refs: Vec<NodeRef>,
    #[serde(skip)]
    pub purpose_refs: Vec<NodeRef>,
    #[serde(skip)]
    pub recipient_refs: Vec<NodeRef>,
    #[serde(skip)]
    pub collector: Option<NodeRef>,
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct Activity {
    pub name: Option<String>,
    pub purpose: Option<String>,
    pub purpose_category: Option<String>,
    pub legal_basis: Option<String>,
    pub consent: Option<String>,
    /// `consent`, resolved.
    #[serde(skip)]
    pub consent_ref: Option<NodeRef>,
    pub art9_condition: Option<String>,
    pub biometric_use: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct Flow {
    pub activity: String,
    pub from: String,
    pub to: String,
    #[serde(default)]
    pub data: Vec<String>,
    #[serde(default)]
    pub subjects: Vec<String>,
    /// How the receiving side gets the data; `copy` when not stated (DESIGN §3).
    #[serde(default = "default_access")]
    pub access: String,
    /// `activity`, `from`, `to` and `subjects`, resolved (always set in a built workspace).
    #[serde(skip)]
    pub activity_ref: Option<NodeRef>,
    #[serde(skip)]
    pub from_ref: Option<NodeRef>,
    #[serde(skip)]
    pub to_ref: Option<NodeRef>,
    #[serde(skip)]
    pub subject_refs: Vec<NodeRef>,
}

fn default_access() -> String {
    "copy".to_string()
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct Breach {
    pub date: Option<serde_json::Value>,
    pub risk: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct Order {
    pub authority: Option<String>,
    pub kind: Option<String>,
    pub status: Option<String>,
    pub penalty_per_day_eur: Option<f64>,
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct Request {
    pub kind: Option<String>,
    pub received: Option<serde_json::Value>,
    pub complete: Option<bool>,
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct Waiver {
    pub rule: String,
    pub subject: String,
    pub reason: String,
    pub approved_by: String,
    pub expires: serde_json::Value,
}
