//! The project id, typed: every tenant query takes one, so no other id (a campaign's, a
//! customer's) can be passed where the tenant belongs.

use uuid::Uuid;

/// A project's id. Bound and read as the `uuid` it is in the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, sqlx::Type)]
#[sqlx(transparent)]
pub struct ProjectId(pub Uuid);

impl ProjectId {
    pub fn uuid(self) -> Uuid {
        self.0
    }
}

impl From<Uuid> for ProjectId {
    fn from(id: Uuid) -> Self {
        ProjectId(id)
    }
}

impl std::fmt::Display for ProjectId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::ProjectId;

    #[test]
    fn a_project_id_reads_and_prints_as_its_uuid() {
        let id = uuid::Uuid::from_u128(0x0123_4567_89ab_cdef_0123_4567_89ab_cdef);
        assert_eq!(ProjectId::from(id).to_string(), id.to_string());
        assert_eq!(ProjectId::from(id).uuid(), id);
    }
}
