// Package finintel is financial intelligence both ways between the two
// FIUs (UIF in Mexico, FinCEN in the United States): spontaneous
// disclosures with four-eyes release, requests for information under the
// requested side's deadline, consent for onward use (the third-party rule,
// enforced here), feedback, recall and retention with attested seals, and
// the work area's reciprocity figures.
//
// One file per concept: model.go (this file), validate.go, service.go (the
// service and its helpers), disclosure.go (drafts, four-eyes release,
// reading, passing on, export), consent.go (consent and feedback),
// seal.go (recall and retention), rfi.go (requests for information),
// kinds.go (the message kinds and their handlers), worker.go, figures.go,
// goaml.go and csv.go (imports), ftm.go (export). It owns the tables of
// migration 00005.
package finintel

import (
	"puente/internal/caveats"

	"puente/internal/fault"

	"fmt"
	"time"
)

// Disclosure statuses. On the originator: draft → submitted → released
// (→ recalled once recalled, sealed once the partner attests the seal).
// On the recipient: received → sealed.
const (
	StatusDraft     = "draft"
	StatusSubmitted = "submitted"
	StatusReleased  = "released"
	StatusRecalled  = "recalled"
	StatusReceived  = "received"
	StatusSealed    = "sealed"
)

// Subject is a person or a company named in a disclosure or a request.
type Subject struct {
	Ref  string `json:"ref"`
	Type string `json:"type"` // "person" or "company"
	// Persons.
	GivenNames    string   `json:"given_names,omitempty"`
	FirstSurname  string   `json:"first_surname,omitempty"`
	SecondSurname string   `json:"second_surname,omitempty"`
	Aliases       []string `json:"aliases,omitempty"`
	DOB           string   `json:"dob,omitempty"`
	Nationality   string   `json:"nationality,omitempty"`
	CURP          string   `json:"curp,omitempty"`
	Passport      string   `json:"passport,omitempty"`
	PassportCtry  string   `json:"passport_country,omitempty"`
	SSN           string   `json:"ssn,omitempty"` // SSN or ITIN
	Phone         string   `json:"phone,omitempty"`
	Email         string   `json:"email,omitempty"`
	// Companies.
	Name    string `json:"name,omitempty"`
	EIN     string `json:"ein,omitempty"`
	Country string `json:"country,omitempty"`
	// Both.
	RFC string `json:"rfc,omitempty"`
}

// FullName is the subject's name as written: a person's given names and
// surnames, or a company's name.
func (s Subject) FullName() string {
	if s.Type == "company" {
		return s.Name
	}
	n := s.GivenNames
	for _, p := range []string{s.FirstSurname, s.SecondSurname} {
		if p != "" {
			n += " " + p
		}
	}
	return n
}

// Account is a bank account or a crypto wallet.
type Account struct {
	Ref      string `json:"ref"`
	Bank     string `json:"bank,omitempty"`
	Number   string `json:"number,omitempty"`
	CLABE    string `json:"clabe,omitempty"`
	IBAN     string `json:"iban,omitempty"`
	Wallet   string `json:"wallet,omitempty"`
	Currency string `json:"currency,omitempty"`
	Holder   string `json:"holder,omitempty"` // a subject's ref
}

// Transaction moves value between subjects or accounts (by ref) or named
// outsiders.
type Transaction struct {
	Ref      string `json:"ref"`
	Date     string `json:"date"`   // YYYY-MM-DD
	Amount   string `json:"amount"` // decimal, as written
	Currency string `json:"currency"`
	From     string `json:"from"`
	To       string `json:"to"`
	Channel  string `json:"channel"`
}

// Channels a transaction may go through.
var Channels = []string{"wire", "cash", "card", "check", "crypto", "remittance", "other"}

// Content is what a disclosure says; it is what a seal removes.
type Content struct {
	Subjects     []Subject     `json:"subjects"`
	Accounts     []Account     `json:"accounts"`
	Transactions []Transaction `json:"transactions"`
}

// Draft is what an analyst writes.
type Draft struct {
	Title         string          `json:"title"`
	CriminalGroup string          `json:"criminal_group"`
	Narrative     string          `json:"narrative"`
	Caveats       caveats.Caveats `json:"caveats"`
	RFIID         string          `json:"rfi_id,omitempty"` // the request this answers, if any
	Content
}

// Disclosure is one disclosure as a node holds it.
type Disclosure struct {
	ID            string          `json:"id"`
	Origin        string          `json:"origin"`
	FromAgency    string          `json:"from_agency"`
	ToAgency      string          `json:"to_agency"`
	Status        string          `json:"status"`
	Title         string          `json:"title"`
	CriminalGroup string          `json:"criminal_group"`
	Narrative     string          `json:"narrative"`
	Caveats       caveats.Caveats `json:"caveats"`
	RFIID         string          `json:"rfi_id,omitempty"`
	NSubjects     int             `json:"n_subjects"`
	NAccounts     int             `json:"n_accounts"`
	NTransactions int             `json:"n_transactions"`
	ContentSHA256 string          `json:"content_sha256,omitempty"`
	CreatedBy     string          `json:"created_by"`
	CreatedAt     time.Time       `json:"created_at"`
	UpdatedAt     time.Time       `json:"updated_at"`
	SubmittedBy   string          `json:"submitted_by,omitempty"`
	SubmittedAt   time.Time       `json:"submitted_at,omitzero"`
	ReturnNote    string          `json:"return_note,omitempty"`
	ReleasedBy    string          `json:"released_by,omitempty"`
	ReleasedAt    time.Time       `json:"released_at,omitzero"`
	ReceivedAt    time.Time       `json:"received_at,omitzero"`
	EnvelopeID    string          `json:"envelope_id,omitempty"`
	Delivery      string          `json:"delivery,omitempty"` // on the originator: pending, delivered, rejected
	EvidentialAt  time.Time       `json:"evidential_at,omitzero"`
	EvidentialBy  string          `json:"evidential_by,omitempty"`
	RetainUntil   time.Time       `json:"retain_until,omitzero"`
	RecalledAt    time.Time       `json:"recalled_at,omitzero"`
	// SealedAt is when this node sealed its copy of a partner's disclosure.
	SealedAt   time.Time `json:"sealed_at,omitzero"`
	SealReason string    `json:"seal_reason,omitempty"` // recall or retention
	// SealAttested is, on our own disclosure, when the partner sealed its
	// copy by its signed attestation (envelope SealEnvelope).
	SealAttested time.Time `json:"seal_attested_at,omitzero"`
	SealEnvelope string    `json:"seal_envelope,omitempty"`
	Screening    []Flag    `json:"screening,omitempty"`
	Known        []Known   `json:"known,omitempty"`
	// Content is empty once sealed, and in lists.
	Content     *Content     `json:"content,omitempty"`
	Attachments []Attachment `json:"attachments,omitempty"`
	// PendingConsents counts the consent requests waiting for a decision
	// (lists: the badge).
	PendingConsents int `json:"pending_consents,omitempty"`
	// Details, filled by Get.
	Consents       []Consent       `json:"consents,omitempty"`
	Disseminations []Dissemination `json:"disseminations,omitempty"`
	Feedback       []Feedback      `json:"feedback,omitempty"`
	Access         []AccessReport  `json:"access,omitempty"`
}

// Sealed reports whether the content has been removed.
func (d *Disclosure) Sealed() bool { return !d.SealedAt.IsZero() }

// Flag is a strong screening match of a subject against this node's
// sanctions lists, found when the disclosure arrived.
type Flag struct {
	Subject string  `json:"subject"` // the subject's ref
	Name    string  `json:"name"`
	List    string  `json:"list"`
	ListID  string  `json:"list_id"`
	Matched string  `json:"matched_name"`
	Score   float64 `json:"score"`
	// Agencies, when set, are the only agencies that may see the flag: a
	// hit on a priority target is shown to those who see the target.
	Agencies []string `json:"agencies,omitempty"`
	// YearDiffers names a strong name match whose birth year disagrees:
	// the subject's Year against the list's ListedYears.
	YearDiffers bool  `json:"year_differs,omitempty"`
	Year        int   `json:"year,omitempty"`
	ListedYears []int `json:"listed_years,omitempty"`
}

// Known is an exact identifier of a received subject or account that this
// node already holds in its own records.
type Known struct {
	Ref    string `json:"ref"`    // the subject's or account's ref in this disclosure
	Key    string `json:"key"`    // the identifier type, such as "curp"
	Source string `json:"source"` // "disclosure" or the subject index's source
	Link   string `json:"link"`   // the other record: a disclosure id or an index ref
	Label  string `json:"label"`
}

// AccessReport is what the partner reported about its users' use of one
// of our disclosures.
type AccessReport struct {
	At       time.Time `json:"at"`
	Action   string    `json:"action"`
	Actor    string    `json:"actor"`
	Name     string    `json:"actor_name,omitempty"` // as the partner reported it
	Agency   string    `json:"agency"`
	ToAgency string    `json:"to_agency,omitempty"`
}

// Who is the user as the page names them: the name, else the username.
func (a AccessReport) Who() string {
	if a.Name != "" {
		return a.Name
	}
	return a.Actor
}

// Uses that need the originator's consent.
const (
	UseDisseminate = "disseminate" // pass on to a domestic agency outside the caveats
	UseEvidential  = "evidential"  // use as evidence
)

// Consent statuses.
const (
	ConsentPending = "pending"
	ConsentGranted = "granted"
	ConsentDenied  = "denied"
)

// Consent is one request to use a partner's disclosure beyond its caveats.
type Consent struct {
	ID           string    `json:"id"`
	DisclosureID string    `json:"disclosure_id"`
	Origin       string    `json:"origin"` // the side that asks: the recipient
	Agency       string    `json:"agency,omitempty"`
	Use          string    `json:"use"`
	Reason       string    `json:"reason"`
	Status       string    `json:"status"`
	Conditions   string    `json:"conditions,omitempty"`
	RequestedBy  string    `json:"requested_by"`
	RequestedAt  time.Time `json:"requested_at"`
	DecidedBy    string    `json:"decided_by,omitempty"`
	DecidedAt    time.Time `json:"decided_at,omitzero"`
}

// Dissemination is one passing-on of a partner's disclosure to a domestic
// agency.
type Dissemination struct {
	Agency    string    `json:"agency"`
	ConsentID string    `json:"consent_id,omitempty"` // empty when the caveats allowed it
	By        string    `json:"by"`
	At        time.Time `json:"at"`
}

// Feedback kinds: what came of a disclosure.
var FeedbackKinds = []string{"accounts_frozen", "investigation_opened", "arrests", "seizures", "no_action"}

// Feedback is what the recipient reports back to the originator.
type Feedback struct {
	ID           string    `json:"id"`
	DisclosureID string    `json:"disclosure_id"`
	Origin       string    `json:"origin"`
	Kind         string    `json:"kind"`
	Amount       string    `json:"amount,omitempty"`
	Currency     string    `json:"currency,omitempty"`
	Count        int       `json:"count,omitempty"`
	Note         string    `json:"note,omitempty"`
	Author       string    `json:"author"`
	AuthorAgency string    `json:"author_agency"`
	At           time.Time `json:"at"`
}

// Urgencies of a request, lowest first.
var Urgencies = []string{"routine", "urgent", "immediate"}

// RFI statuses. "partial" has had an interim answer and stays open.
const (
	RFIOpen     = "open"
	RFIPartial  = "partial"
	RFIAnswered = "answered"
	RFIDeclined = "declined"
)

// Response kinds.
const (
	RespondPartial = "partial"
	RespondFull    = "full"
	RespondDecline = "decline"
)

// RFI is a request for information from one FIU to the other.
type RFI struct {
	ID         string     `json:"id"`
	Origin     string     `json:"origin"`
	FromAgency string     `json:"from_agency"`
	ToAgency   string     `json:"to_agency"`
	Urgency    string     `json:"urgency"`
	Title      string     `json:"title"`
	Questions  string     `json:"questions"`
	Subjects   []Subject  `json:"subjects"`
	CreatedBy  string     `json:"created_by"`
	CreatedAt  time.Time  `json:"created_at"`
	DeadlineAt time.Time  `json:"deadline_at"`
	Status     string     `json:"status"`
	FinalAt    time.Time  `json:"final_at,omitzero"`
	RemindedAt time.Time  `json:"reminded_at,omitzero"`
	Overdue    bool       `json:"overdue"`
	Late       bool       `json:"late"` // answered or declined after the deadline
	DueSoon    bool       `json:"due_soon"`
	EnvelopeID string     `json:"envelope_id,omitempty"`
	Responses  []Response `json:"responses,omitempty"`
}

// Response is one answer to a request.
type Response struct {
	ID           string    `json:"id"`
	Kind         string    `json:"kind"`
	Body         string    `json:"body"`
	DisclosureID string    `json:"disclosure_id,omitempty"`
	Author       string    `json:"author"`
	AuthorAgency string    `json:"author_agency"`
	At           time.Time `json:"at"`
}

// NewRFI is what an analyst fills in to ask the partner.
type NewRFI struct {
	Title     string    `json:"title"`
	Urgency   string    `json:"urgency"`
	Questions string    `json:"questions"`
	Subjects  []Subject `json:"subjects"`
}

// Errors with a contract: the web and API layers map them.
var (
	ErrNotFound  = fmt.Errorf("no such disclosure or request: %w", fault.ErrNotFound)
	ErrForbidden = fmt.Errorf("financial intelligence: %w", fault.ErrForbidden)
	// ErrFourEyes: the releasing supervisor wrote or submitted the draft.
	ErrFourEyes = fault.New(fault.ErrForbidden, "four_eyes", "a disclosure must be released by a supervisor other than its author and submitter")
	// ErrState: the action does not fit the record's status.
	ErrState = fault.New(fault.ErrConflict, "wrong_status", "not possible in the record's current status")
	// ErrSealed: the content was sealed (recall or retention).
	ErrSealed = fault.New(fault.ErrConflict, "sealed", "the disclosure has been sealed (recalled or past its retention)")
	// ErrConsentRequired: the caveats do not allow the use and no consent
	// covers it; the refusal has been logged and reported to the originator.
	ErrConsentRequired = fault.New(fault.ErrForbidden, "consent_required", "the caveats do not allow this and the originator has not consented; the refusal was logged and reported to the originator")
	// ErrExportForbidden: the caveats forbid export; the refusal was logged.
	ErrExportForbidden = fault.New(fault.ErrForbidden, "export_forbidden", "the originator's caveats forbid exporting this disclosure; the refusal was logged and reported")
)

// Field errors are fault.FieldError; for identifiers, Code is "ident."
// plus the identifier's error code.
