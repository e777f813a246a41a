#!/usr/bin/env python3
"""Generates a large, valid flow workspace for timing `flowaudit check` and `validate`.

    python3 bench/gen_workspace.py OUT_DIR SYSTEMS

For SYSTEMS systems it writes SYSTEMS/10 files holding the systems, SYSTEMS/2 parties (a third of
them subprocessors engaged by another party, half outside the EEA), SYSTEMS/4 activities, 2*SYSTEMS
flows and SYSTEMS/5 data-subject groups: the shapes the rules work on (chains, transfers, consent).
"""
import json
import os
import random
import sys

out, n = sys.argv[1], int(sys.argv[2])
random.seed(42)
os.makedirs(out, exist_ok=True)
countries = ["DE", "FR", "IE", "US", "VE", "IN", "JP", "CH", "GB", "BR"]
cats = ["user.content.image", "user.sensor.home", "user.device.device_id", "user.contact.email",
        "user.location.precise", "user.biometric.face", "user.name"]
n_parties, n_acts, n_subjects = max(1, n // 2), max(1, n // 4), max(1, n // 5)
parties = []
for i in range(n_parties):
    p = {"id": f"party-{i}", "name": f"Vendor {i}", "country": random.choice(countries),
         "role": "processor", "contract": {"type": "dpa", "clauses": ["a", "b", "c", "d", "e", "f", "g", "h"],
                                           "subprocessing": "general_with_notice", "flows_down": True},
         "due_diligence": True, "transfer": {"mechanism": random.choice(["scc", "none", "dpf"]), "tia": True}}
    if i % 3 == 2:
        p["role"] = "subprocessor"
        p["engaged_by"] = f"party-{i - 1}"
    parties.append(p)
subjects = [{"id": f"group-{i}", "category": random.choice(["user", "bystander", "tester"]),
             "countries": ["EEA"], "informed": random.choice([True, False])} for i in range(n_subjects)]
consents = [{"id": f"consent-{i}", "subjects": [f"group-{i % n_subjects}"], "purposes": [f"activity-{i}"],
             "recipients": [f"party-{i % n_parties}"], "records_kept": True,
             "covers": {"human_review": False, "ai_training": True, "third_country_transfer": False,
                        "special_categories": False}} for i in range(n_acts)]
activities = [{"id": f"activity-{i}", "purpose_category": random.choice(["ai_training", "service", "analytics"]),
               "legal_basis": random.choice(["consent", "legitimate_interests", "contract"]),
               "consent": f"consent-{i}", "biometric_use": "none",
               "collection": {"channel": "device", "continuous": True, "large_scale": False},
               "human_review": {"performed": True, "by": "crowd", "disclosed": False},
               "dpia": {"status": "not_done"}, "retention": {"period": "P1Y", "justification": "x"}}
              for i in range(n_acts)]
systems = [{"id": f"system-{i}", "operated_by": f"party-{i % n_parties}" if i % 2 else "acme",
            "kind": random.choice(["device", "cloud_service", "database", "annotation_tool"]),
            "country": random.choice(countries), "location": "home", "sensors": ["camera"]} for i in range(n)]
flows = []
for i in range(2 * n):
    flows.append({"id": f"flow-{i}", "activity": f"activity-{i % n_acts}", "from": f"system-{i % n}",
                  "to": f"party-{i % n_parties}" if i % 3 == 0 else f"system-{(i + 1) % n}",
                  "data": random.sample(cats, 2), "subjects": [f"group-{i % n_subjects}"],
                  "access": random.choice(["copy", "remote_access", "human_review"])})

def write(name, doc):
    with open(os.path.join(out, name), "w") as f:
        json.dump(doc, f, indent=1)

write("a-controller.flow.json", {"flowaudit": 1, "controller": {"id": "acme", "name": "Acme", "country": "DE",
      "eea_establishment": True}, "notice": {"exists": True, "items": ["identity", "purposes"]},
      "rights": {"access": {"process": True, "complete": False}}, "security": {"mfa_staff": True}})
chunks = max(1, n // 10)
for c in range(chunks):
    sl = lambda xs: xs[c * len(xs) // chunks:(c + 1) * len(xs) // chunks]
    write(f"part-{c:04}.flow.json", {"flowaudit": 1, "parties": sl(parties), "systems": sl(systems),
          "data_subjects": sl(subjects), "consents": sl(consents), "activities": sl(activities), "flows": sl(flows)})
