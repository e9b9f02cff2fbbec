//! The fixed list of permissions a role can grant. Endpoints check these, never role names,
//! so a tenant admin can build custom roles from this list.

/// One grantable permission: its stable key and an English description (the SPA translates
/// by key).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Permission {
    pub key: &'static str,
    pub description: &'static str,
}

macro_rules! permissions {
    ($($ident:ident = $key:literal : $desc:literal;)*) => {
        $(#[doc = $desc] pub const $ident: &str = $key;)*
        /// Every permission, in display order.
        pub const ALL: &[Permission] = &[$(Permission { key: $key, description: $desc }),*];
    };
}

permissions! {
    USERS_READ = "users.read": "See users, teams, skills and queues";
    USERS_WRITE = "users.write": "Create, edit and deactivate users; reset their passwords";
    TEAMS_WRITE = "teams.write": "Create, edit and delete teams";
    SKILLS_WRITE = "skills.write": "Create, edit and delete skills";
    QUEUES_WRITE = "queues.write": "Create, edit and delete queues";
    ROLES_WRITE = "roles.write": "Define custom roles";
    AUDIT_READ = "audit.read": "Read the audit log";
    API_KEYS_WRITE = "api_keys.write": "Create and revoke API keys";
    SETTINGS_WRITE = "settings.write": "Change tenant settings, including single sign-on";
    AGENT_STATE = "agent.state": "Take calls: change one's own agent state";
    CRM_READ = "crm.read": "See customers, their history and the category tree";
    CRM_WRITE = "crm.write": "Create and edit customers and interactions";
    CRM_ADMIN = "crm.admin": "Edit the customer template and the category tree; merge customers";
    KB_READ = "kb.read": "Read and search published knowledge-base articles";
    KB_WRITE = "kb.write": "Write knowledge-base articles and submit them for review";
    KB_REVIEW = "kb.review": "Approve or reject knowledge-base articles";
    TICKETS_WORK = "tickets.work": "Create tickets, comment, and move them through their workflow";
    TICKETS_ADMIN = "tickets.admin": "Define ticket types, workflows, assignment rules and SLAs; take approval steps";
    SUPERVISE = "supervise": "Watch the center live and change agents' states";
    RECORDINGS_READ = "recordings.read": "List, play and download call recordings";
    IVR_WRITE = "ivr.write": "Build IVR flows, publish them and assign them to numbers";
    CAMPAIGNS_WRITE = "campaigns.write": "Create, run and stop outbound campaigns; edit the do-not-call and blocked-number lists";
}

/// Whether `key` names a permission in [`ALL`].
pub fn is_known(key: &str) -> bool {
    ALL.iter().any(|p| p.key == key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_unique_and_known() {
        let mut keys: Vec<_> = ALL.iter().map(|p| p.key).collect();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(keys.len(), ALL.len());
        assert!(is_known(USERS_WRITE));
        assert!(!is_known("users.delete_everything"));
    }
}
