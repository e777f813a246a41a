//! Three-valued facts: true, false, or unknown with the facts that would decide it
//! (CHECKPOINTS §1.2: `false and ?` = false, `true or ?` = true, otherwise `?`).

use super::node::Missing;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Tri {
    True,
    False,
    Unknown(Vec<Missing>),
}

impl Tri {
    pub fn from_bool(b: bool) -> Tri {
        if b { Tri::True } else { Tri::False }
    }

    pub fn unknown(m: Missing) -> Tri {
        Tri::Unknown(vec![m])
    }

    pub fn is_true(&self) -> bool {
        matches!(self, Tri::True)
    }

    pub fn is_false(&self) -> bool {
        matches!(self, Tri::False)
    }

    pub fn and(self, other: Tri) -> Tri {
        match (self, other) {
            (Tri::False, _) | (_, Tri::False) => Tri::False,
            (Tri::True, x) | (x, Tri::True) => x,
            (Tri::Unknown(mut a), Tri::Unknown(b)) => {
                a.extend(b);
                Tri::Unknown(a)
            }
        }
    }

    pub fn or(self, other: Tri) -> Tri {
        match (self, other) {
            (Tri::True, _) | (_, Tri::True) => Tri::True,
            (Tri::False, x) | (x, Tri::False) => x,
            (Tri::Unknown(mut a), Tri::Unknown(b)) => {
                a.extend(b);
                Tri::Unknown(a)
            }
        }
    }

    pub fn negate(self) -> Tri {
        match self {
            Tri::True => Tri::False,
            Tri::False => Tri::True,
            u => u,
        }
    }

    pub fn any(items: impl IntoIterator<Item = Tri>) -> Tri {
        items.into_iter().fold(Tri::False, Tri::or)
    }

    pub fn all(items: impl IntoIterator<Item = Tri>) -> Tri {
        items.into_iter().fold(Tri::True, Tri::and)
    }

    /// `Some(bool)` when decided.
    pub fn decided(&self) -> Option<bool> {
        match self {
            Tri::True => Some(true),
            Tri::False => Some(false),
            Tri::Unknown(_) => None,
        }
    }

    pub fn missing(&self) -> &[Missing] {
        match self {
            Tri::Unknown(m) => m,
            _ => &[],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u() -> Tri {
        Tri::unknown(Missing {
            kind: "flow".into(),
            id: "f".into(),
            path: "x".into(),
        })
    }

    #[test]
    fn kleene_logic() {
        assert_eq!(Tri::False.and(u()), Tri::False);
        assert_eq!(u().and(Tri::False), Tri::False);
        assert_eq!(Tri::True.or(u()), Tri::True);
        assert!(matches!(Tri::True.and(u()), Tri::Unknown(_)));
        assert!(matches!(Tri::False.or(u()), Tri::Unknown(_)));
        assert_eq!(Tri::any([Tri::False, Tri::True, u()]), Tri::True);
        assert_eq!(Tri::all([Tri::True, Tri::True]), Tri::True);
        assert_eq!(Tri::all(Vec::new()), Tri::True);
    }
}
