# Hotline — English (complete; the reference catalog).
# Keys are stable; other catalogs translate the same keys. Missing keys fall back to English.

app-name = Hotline

## Shell
shell-language = Language
shell-logout = Log out
shell-main-nav = Main navigation
shell-skip-to-content = Skip to content
state-loading = Loading…
platform-console = Platform console

nav-agent = Agent desktop
nav-tickets = Tickets
nav-kb = Knowledge base
nav-customer-template = Customer template
nav-customer-import = Import customers
nav-users = Users
nav-teams = Teams
nav-skills = Skills
nav-queues = Queues
nav-roles = Roles
nav-reason-codes = Reason codes
nav-audit = Audit log
nav-sso = Single sign-on
nav-tenants = Tenants

flash-logged-out = You have been logged out.
flash-no-access = You don't have access to that page.
flash-operators-only = That page is for platform operators. Please sign in as an operator.
flash-session-expired = Your session has expired. Please sign in again.
flash-signed-out = You are signed out. Please sign in again.
flash-sign-in-first = Please sign in to continue.
flash-signed-up = Your call center is ready. Colleagues sign in with the company ID “{ $arg }”.
flash-user-created = User { $arg } was created.

notfound-title = Page not found
notfound-body = There is nothing at this address.
notfound-home = Go to the start page

## Common actions and states
action-save = Save
action-cancel = Cancel
action-retry = Try again
action-dismiss = Dismiss
action-search = Search
action-filter = Apply filters
action-clear = Clear
action-refresh = Refresh
action-edit = Edit
action-edit-named = Edit { $name }
action-delete = Delete
action-delete-named = Delete { $name }
action-confirm-delete = Really delete { $name }?
answer-yes = Yes
answer-no = No
notice-saved = Saved.
table-actions = Actions
status-active = Active
status-inactive = Inactive
status-suspended = Suspended

pager-label = Pages
pager-prev = Previous
pager-next = Next
pager-status = Page { $page } of { $pages } · { $total } in total

## Form validation and errors
form-required = This field is required.
form-invalid-email = Enter an e-mail address like name@example.com.
form-password-mismatch = The passwords do not match.
form-level-range = Use a level from 1 (novice) to 10 (expert).
form-range = Use a whole number from { $min } to { $max }.
password-hint = At least 10 characters.

error-network = The server cannot be reached. Check your connection and try again.
error-decode = The server sent an answer this page does not understand. Reload the page.
error-server = The server had a problem. Try again in a moment.
error-status = The request failed (HTTP { $status }).

problem-invalid-credentials = The company ID, e-mail or password is wrong.
problem-login-locked = Too many failed attempts. Wait a few minutes before trying again.
problem-session-expired = Your session has expired. Please sign in again.
problem-unauthenticated = Please sign in.
problem-forbidden = You are not allowed to do that.
problem-not-found = Not found. It may have been deleted.
problem-validation-failed = Some fields need attention.
problem-slug-taken = That company ID is already taken.
problem-email-taken = A user with that e-mail already exists.
problem-tenant-suspended = This company's account is suspended. Contact support.
problem-conflict = That conflicts with existing data.
problem-builtin-role = Built-in roles cannot be changed.

## Login
login-title = Sign in to Hotline
login-tenant = Company ID
login-tenant-hint = The short name your company chose at sign-up, e.g. acme.
login-email = E-mail
login-password = Password
login-submit = Sign in
login-submitting = Signing in…
login-or = or
login-sso = Sign in with SSO ({ $company })
login-no-account = New to Hotline?
login-signup-link = Create a call center
login-operator-link = Platform operator sign-in
sso-error-generic = Single sign-on failed ({ $code }). Try again or use your password.
sso-error-sso-denied = Single sign-on was cancelled or refused by your identity provider.
sso-error-sso-exchange-failed = Single sign-on could not be completed. Try again.
sso-error-sso-no-account = Your single sign-on account has no Hotline user. Ask your administrator.
sso-error-sso-no-email = Your identity provider did not share an e-mail address, so you cannot be signed in.
sso-error-sso-not-configured = Single sign-on is not set up for this company.
sso-error-sso-provider-invalid = Single sign-on is misconfigured for this company. Ask your administrator.
sso-error-sso-provider-unreachable = Your company's identity provider cannot be reached right now. Try again or use your password.
sso-error-sso-state-invalid = The single sign-on attempt expired. Start it again.
sso-error-sso-unavailable = Single sign-on is temporarily unavailable. Use your password.

## Sign-up
signup-title = Create your call center
signup-intro = You will be its first administrator. It takes a minute.
signup-company = Company name
signup-slug = Company ID
signup-slug-hint = Used to sign in. Letters, digits and dashes; made from the company name if left empty.
signup-name = Your name
signup-email = Your e-mail
signup-password = Password
signup-submit = Create call center
signup-submitting = Creating…
signup-have-account = Already have an account?
signup-login-link = Sign in

## Account
account-title = My account
account-you = Signed in as
account-company = Company
account-session-until = Session valid until
account-change-password = Change password
account-current-password = Current password
account-new-password = New password
account-confirm-password = Repeat the new password
account-password-changed = Your password was changed.

## SSO settings
sso-title = Single sign-on
sso-intro = Let your staff sign in with your OpenID Connect identity provider.
sso-enabled = Enable single sign-on
sso-issuer = Issuer URL
sso-issuer-hint = Its /.well-known/openid-configuration is read.
sso-client-id = Client ID
sso-client-secret = Client secret
sso-client-secret-hint = Leave empty to keep the stored secret.
sso-auto-provision = Create an agent account on first sign-in

## Users
users-title = Users
users-new = New user
users-search = Search users
users-include-inactive = Show deactivated users
users-empty = No users match.
user-name = Name
user-email = E-mail
user-role = Role
user-team = Team
user-no-team = No team
user-extension = Extension
user-skills = Skills
user-status = Status
user-created = Created
user-new-title = New user
user-edit-title = Edit { $name }
user-initial-password = Initial password
user-skills-levels = Skills and levels
user-no-skills-defined = No skills are defined yet.
user-skill-level-of = Level of { $skill }
user-level-hint = 1 = novice, 10 = expert
user-create = Create user
user-reset-password = Reset password
user-reset-hint = The user signs in with this password next time.
user-password-reset-done = The password was reset.
user-is-active = This user can sign in.
user-is-inactive = This user is deactivated and cannot sign in.
user-deactivate = Deactivate
user-deactivate-confirm = Deactivate { $name }? They will be signed out and cannot sign in.
user-reactivate = Reactivate

## Teams, skills, queues, roles, reason codes
teams-title = Teams
teams-empty = No teams yet.
teams-new = New team
teams-edit = Edit team
teams-name = Team name
teams-parent = Part of
teams-no-parent = (top level)

skills-title = Skills
skills-empty = No skills yet.
skills-new = New skill
skills-edit = Edit skill
skills-name = Skill
skills-description = Description

queues-title = Queues
queues-empty = No queues yet.
queues-new = New queue
queues-edit = Edit queue
queues-name = Queue name
queues-strategy = Routing
queues-required-skills = Required skills (minimum level)
queues-min-level-of = Minimum level of { $skill }
queues-max-wait = Max wait (s)
queues-wrap-up = Wrap-up (s)
queues-priority = Priority
queues-overflow = When the wait is too long
queues-voicemail = Voicemail
strategy-longest-idle = Longest idle agent
strategy-ring-all = Ring all
strategy-round-robin = Round robin
strategy-fewest-calls = Fewest calls
strategy-skills-based = Best skill level

roles-title = Roles
roles-new = New custom role
roles-edit = Role
roles-name = Role name
roles-permissions = Permissions
roles-builtin = built-in
roles-builtin-readonly = Built-in roles cannot be changed; create a custom role instead.
roles-pick-one = Choose at least one permission.
perm-users-read = See users, teams, skills and queues
perm-users-write = Create, edit and deactivate users; reset their passwords
perm-teams-write = Create, edit and delete teams
perm-skills-write = Create, edit and delete skills
perm-queues-write = Create, edit and delete queues
perm-roles-write = Define custom roles
perm-audit-read = Read the audit log
perm-api-keys-write = Create and revoke API keys
perm-settings-write = Change tenant settings, including single sign-on
perm-agent-state = Take calls: change one's own agent state
perm-supervise = Watch the center live and change agents' states

reasons-title = Reason codes
reasons-new = New reason code
reasons-edit = Edit reason code
reasons-name = Name
reasons-kind = Kind
reasons-kind-not-ready = Not ready
reasons-kind-break = Break
reasons-needs-approval = Needs a supervisor's approval

## Audit log
audit-title = Audit log
audit-empty = Nothing was recorded for these filters.
audit-when = When
audit-actor = Who
audit-anyone = Anyone
audit-action = Action
audit-action-hint = An exact action such as agent.state, or a prefix ending in a dot such as auth.
audit-target = Target
audit-target-id = Target ID
audit-details = Details
audit-ip = IP address
audit-from = From
audit-to = To
audit-label-auth-login = signed in
audit-label-auth-login-failed = failed sign-in
audit-label-auth-logout = signed out
audit-label-user-create = created a user
audit-label-user-update = changed a user
audit-label-user-deactivate = deactivated a user
audit-label-user-password-reset = reset a password
audit-label-agent-state = changed agent state

## Agent desktop
agent-title = Agent desktop
agent-state = My state
agent-change-state = Change state to
agent-apply-state = Change state
agent-since = since { $time }
agent-status-ready = Ready
agent-status-not-ready = Not ready
agent-status-break = Break
agent-status-logged-out = Logged out
agent-option-not-ready = Not ready — { $reason }
agent-option-break = Break — { $reason }
agent-shortcuts = Shortcuts: Alt+1 state · Alt+2 softphone · Alt+3 customer · Alt+4 interaction · Alt+5 knowledge base
agent-softphone = Softphone
agent-softphone-placeholder = The softphone connects here once telephony is enabled for your center.
agent-dial-number = Number to call
agent-call = Call
agent-hold = Hold
agent-transfer = Transfer
agent-hang-up = Hang up
agent-customer = Customer
agent-customer-placeholder = No call in progress. The caller's card appears here when a call is offered.
agent-customer-name = Name
agent-customer-phone = Phone
agent-customer-account = Account
agent-customer-history = Recent requests
agent-interaction = Interaction
agent-interaction-placeholder = Classify the request and take notes during a call.
agent-category = Category
agent-notes = Notes
agent-save-interaction = Save interaction
agent-kb = Knowledge base
agent-kb-search = Search articles
agent-kb-placeholder = Articles matching your search appear here once the knowledge base is set up.
agent-kb-search-button = Search
agent-kb-did-you-mean = Did you mean: { $words }
agent-kb-no-hits = No articles match your search.
agent-kb-attach = Attach to interaction
agent-kb-attached-one = Attached
agent-kb-attached = Attached articles
agent-customer-number = Caller's number
agent-customer-find = Find
agent-customer-card = Customer card
agent-customer-new = New customer
agent-customer-phone-n = Phone { $n }
agent-customer-phone-label = Phone label
agent-customer-add-phone = Add phone
agent-customer-choices = Separate choices with commas: { $options }
agent-customer-matches = { $count } customers have this number; pick one:
agent-customer-save = Save customer
agent-customer-saved = Customer saved.
agent-customer-no-history = No earlier requests.
agent-category-none = — no category —
agent-interaction-for = For { $name }
agent-interaction-no-customer = No customer selected: the interaction is saved without one.
agent-new-interaction = New interaction
agent-interaction-saved = Interaction saved.
agent-interaction-open = Interaction in progress.

## Platform console
platform-login-title = Platform operator sign-in
platform-tenant-login-link = Sign in to a call center instead
platform-tenants-title = Tenants
platform-empty = No tenants yet.
platform-tenant = Tenant
platform-slug = Company ID
platform-plan = Plan
platform-seats = Seats
platform-active-users = Active users
platform-suspend = Suspend
platform-resume = Resume
platform-new-tenant = New tenant
platform-create = Create tenant
platform-created = Tenant “{ $slug }” was created.

## Tickets
tickets-title = Tickets
tickets-any-status = Any status
tickets-scope = Show
tickets-scope-all = All tickets
tickets-scope-mine = Assigned to me
tickets-scope-team = My team's
tickets-search = Search (text or number)
tickets-open-only = Open tickets only
tickets-empty = No tickets match these filters.
tickets-back = ← All tickets
tickets-assignee-me = Me
tickets-assignee-colleague = A colleague
tickets-assignee-a-team = a team
tickets-unassigned = Unassigned
tickets-sla-ok = On time
tickets-sla-soon = SLA due soon
tickets-sla-breached = SLA breached
ticket-number = No.
ticket-subject = Subject
ticket-status = Status
ticket-priority = Priority
ticket-category = Category
ticket-assignee = Assignee
ticket-due = Due
ticket-sla = SLA
ticket-type = Ticket type
ticket-created = Created
ticket-take = Assign to me
ticket-actions = Comment or move
ticket-comment = Comment
ticket-comment-hint = Written with a status change too, when you press one of the workflow's buttons.
ticket-internal = Internal note (staff only)
ticket-add-comment = Add comment
ticket-add-note = Add internal note
ticket-history = History
ticket-event-created = Created, assigned to { $who }
ticket-event-status = Status: { $from } → { $to }
ticket-event-assigned = Assigned to { $who }
ticket-event-comment = Comment
ticket-event-note = Internal note
ticket-priority-low = Low
ticket-priority-normal = Normal
ticket-priority-high = High
ticket-priority-urgent = Urgent
agent-ticket = Ticket
agent-ticket-create = Create ticket
agent-ticket-subject-hint = Empty: the category is used.
agent-ticket-default-subject = Request from a call
agent-ticket-created = Ticket #{ $number } created, assigned to { $who }.
agent-ticket-open = Open ticket

## Knowledge base editing
kb-title = Knowledge base
kb-categories = Categories and articles
kb-new-category = New category
kb-category-name = Category name
kb-category-parent = Inside
kb-category-top = — top level —
kb-add-category = Add category
kb-new-article = New article
kb-edit-article = Edit article
kb-pick-article = Pick an article in the tree, or start a new one.
kb-category = Category
kb-article-title = Title
kb-article-body = Text
kb-body-hint = Markdown. HTML is cleaned when saved.
kb-change-note = What changed (for the history)
kb-save = Save as new version
kb-saved = Saved as a new version.
kb-restored = Restored as version { $version }.
kb-version-n = version { $version }
kb-versions = Versions
kb-current = current
kb-compare = Compare with current
kb-compare-n = Compare version { $version } with the current one
kb-restore = Restore
kb-restore-n = Restore version { $version }
kb-diff-title = Changes from version { $from } to version { $to }
kb-action-submit = Submit for review
kb-action-approve = Approve and publish
kb-action-reject = Send back to draft
kb-action-archive = Archive
kb-action-reopen = Reopen as draft
kb-status-draft = Draft
kb-status-review = In review
kb-status-published = Published
kb-status-archived = Archived

## Customer template
crm-template-title = Customer template
crm-template-intro = The fields every customer card shows. A field's key and kind stay fixed once created; deactivating hides a field without losing its values.
crm-no-fields = No fields yet.
crm-field-new = New field
crm-field-edit = Edit field
crm-field-label = Label
crm-field-key = Key
crm-field-key-hint = a–z, 0–9 and _; empty: made from the label.
crm-field-locked = Fixed once created: stored values live under it.
crm-field-kind = Kind
crm-field-required = Required
crm-field-choices = Choices
crm-choices-hint = Separate choices with commas.
crm-choices-needed = A choice field needs at least one choice.
crm-move-up-named = Move { $name } up
crm-move-down-named = Move { $name } down
crm-deactivate = Deactivate
crm-reactivate = Reactivate
crm-deactivate-named = Deactivate { $name }
crm-reactivate-named = Reactivate { $name }
crm-kind-text = Text
crm-kind-number = Number
crm-kind-date = Date
crm-kind-choice = Choice
crm-kind-multi-choice = Multiple choice
crm-kind-phone = Phone
crm-kind-email = E-mail
crm-kind-address = Address

## Attachments (tickets, knowledge base)
attachments-title = Attachments
attachments-none = No files attached.
attachments-add = Attach a file
attachments-uploading = Uploading…
attachments-remove = Remove { $name }
attachments-too-large = The file is larger than the upload limit.
attachments-bad-type = This type of file is not accepted (or its content does not match its name).

## Notifications
notifications-label = Notifications ({ $count } unread)
notifications-title = Notifications
notifications-read-all = Mark all read
notifications-empty = Nothing new.
notification-assigned = Ticket { $ticket } assigned to you
notification-comment = New comment on { $ticket }
notification-sla-warning = { $ticket } is due soon
notification-sla-breached = { $ticket } is past its due time
notification-escalated = { $ticket } was escalated

## Saved ticket views
tickets-views = Saved view
tickets-views-none = No saved view (use the filters)
tickets-view-shared = { $name } (shared)
tickets-view-name = Save the filters as a view named
tickets-view-share = Share with everyone
tickets-view-save = Save view
tickets-view-delete = Delete view

## Customer import
import-title = Import customers
import-file = CSV or XLSX file
import-file-hint = The first row holds the column names. Up to 64 MB.
import-mapping = Match the columns
import-rows = { $rows } data rows in the file.
import-skip-column = — not imported —
import-name-column = Name
import-phone-column = Phone
import-sample = First rows of the file
import-start = Import
import-status-running = Importing…
import-status-done = Import finished
import-status-failed = Import stopped by an error
import-status-interrupted = Import interrupted
import-counts = { $processed } of { $total } rows checked: { $imported } imported, { $failed } with errors.
import-failed-rows = Rows not imported
import-line = Line
import-reason = Reason
import-export-csv = Export CSV
import-export-xlsx = Export XLSX

## Softphone (agent desktop)
softphone-connecting = Connecting the softphone…
softphone-ready = Softphone ready
softphone-failed = Softphone not connected
softphone-reconnect = Reconnect
softphone-incoming = Incoming call
softphone-dialled = Dialled { $did }
softphone-accept = Answer
softphone-reject = Decline
softphone-in-call = On a call
softphone-mute = Mute
softphone-unmute = Unmute
softphone-auto-answer = Answer calls automatically
softphone-note-ended = The call has ended.
softphone-note-ring-no-answer = Not answered in time: the call went back to the queue.
softphone-note-rejected = Declined: the call went back to the queue.
softphone-note-abandoned = The caller hung up.
