"""Aggregation, disagreements and consensus, site-visit candidates, composite ranking and the final top N.

The arithmetic and tie rules are workflows.ranking's; this module reads sheets from the database,
applies configuration and records decisions (shortlists, consensus, report confirmations), audited.
A tie at a cut is never broken here, nor by the secretariat: selecting raises `tie_at_cut` (naming who decides)
until the one the rules name — `[award.rules] tie_at_cut_decided_by`, the expert group through its leader or
the committee through its chair — records which of the tied applications go on, with a reason (`break_tie`).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from fractions import Fraction

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows import committee
from workflows.core import access, audit, notices, people
from workflows.scoring import ranking
from workflows.core.errors import AlreadyDone, InvalidInput, NotFound
from workflows.scoring.experts import EXPERT_ROLES, LEADER, assignments, check_phase, find_application
from workflows.apply.models import Application
from workflows.scoring.models import Consensus, ReportConfirmation, ScoreSheet, Shortlist
from workflows.scoring.scoresheet import points_text
from workflows.core.settings import Settings

SITE, VOTE = "site", "vote"


def fmt(value: Fraction | None, places: int = 2) -> str:
    """A score for display, rounded half-up to two decimals ("612.50"): scoresheet.points_text, the one
    display precision; `places` is only for stored values (shortlist scores, digests)."""
    return points_text(value, places)


def expert_sheets(session: Session, settings: Settings, phase: str) -> list[ranking.ExpertSheet]:
    """Confirmed sheets of a phase of this edition as ranking.ExpertSheet values (application ids are ints)."""
    rows = session.scalars(select(ScoreSheet).where(ScoreSheet.edition == settings.award.edition_key,
                                                    ScoreSheet.phase == phase, ScoreSheet.status == "confirmed"))
    return [ranking.ExpertSheet(s.application_id, s.expert, Fraction(s.total),
                                {k: int(v) for k, v in s.percentages.items()}) for s in rows]


def _disagreements(settings: Settings, sheets: list[ranking.ExpertSheet]) -> list[ranking.Disagreement]:
    r = settings.award.rules
    return ranking.disagreements(sheets, r.disagreement_total_points, r.disagreement_item_percent)


def _consensus(session: Session, settings: Settings, phase: str) -> dict[int, Consensus]:
    return {c.application_id: c for c in session.scalars(select(Consensus).where(
        Consensus.edition == settings.award.edition_key, Consensus.phase == phase))}


@dataclass(frozen=True)
class Standing:
    """Where a phase stands: final score per application, what is still pending or disputed."""

    phase: str
    scores: dict[int, Fraction]
    aggregates: dict[int, Fraction]
    consensus: dict[int, Consensus]
    pending: list[int]
    disagreements: list[ranking.Disagreement]
    unresolved: list[int] = field(default_factory=list)

    @property
    def final(self) -> bool:
        """True when every sheet is in and every disagreement has a consensus value."""
        return not self.pending and not self.unresolved


def standing(session: Session, settings: Settings, phase: str) -> Standing:
    """Aggregate the confirmed sheets of a phase (mean or trimmed mean; consensus replaces the aggregate)."""
    check_phase(phase)
    r = settings.award.rules
    sheets = expert_sheets(session, settings, phase)
    assigned = assignments(session, settings, phase)
    done = {(s.app_id, s.expert) for s in sheets}
    pending = sorted(a for a, experts in assigned.items() if any((a, e) not in done for e in experts))
    complete = [s for s in sheets if s.app_id in assigned and s.app_id not in pending]
    aggregates = ranking.application_scores(complete, r.aggregation, r.trim)
    consensus = _consensus(session, settings, phase)
    disputes = _disagreements(settings, complete)
    unresolved = [d.app_id for d in disputes if d.app_id not in consensus]
    scores = {a: Fraction(consensus[a].value) if a in consensus else v for a, v in aggregates.items()}
    return Standing(phase, scores, aggregates, consensus, pending, disputes, unresolved)


def flag_disagreement(session: Session, settings: Settings, phase: str, app: Application, *,
                      now: dt.datetime) -> bool:
    """Once all of an application's sheets are in, tell the leader if experts disagree beyond the thresholds."""
    experts = assignments(session, settings, phase).get(app.id, [])
    sheets = [s for s in expert_sheets(session, settings, phase) if s.app_id == app.id]
    if not experts or {s.expert for s in sheets} < set(experts) or app.id in _consensus(session, settings, phase):
        return False
    found = _disagreements(settings, sheets)
    if not found:
        return False
    d = found[0]
    audit.record(session, actor="system", action="score.disagreement", subject=f"application:{app.id}", now=now,
                 phase=phase, total_range=fmt(d.total.range), items=[s.key for s in d.items])
    leaders = [p.userid for p in people.with_role(session, LEADER)]
    if leaders:
        notices.notify(session, leaders, "scoring.disagreement", now=now, phase=phase, number=app.number,
                       enterprise=app.enterprise_name, total_low=fmt(d.total.low), total_high=fmt(d.total.high),
                       total_flagged=d.total_flagged,
                       items=[{"key": s.key, "low": int(s.low), "high": int(s.high)} for s in d.items],
                       threshold_total=settings.award.rules.disagreement_total_points,
                       threshold_item=settings.award.rules.disagreement_item_percent)
    return True


@dataclass(frozen=True)
class ConsensusCheck:
    """What a `共识` would record: the application, the exact value and the consensus it would replace."""

    app: Application
    value: Fraction
    aggregate: Fraction | None
    previous: Consensus | None


def _names(session: Session, userids: list[str]) -> list[str]:
    found = {p.userid: p.name for p in people.with_role(session, *EXPERT_ROLES)}
    return [found.get(u) or u for u in userids]


def check_consensus(session: Session, settings: Settings, phase: str, number: str, value: str) -> ConsensusCheck:
    """Every check `record_consensus` makes, so chat asks only what will be accepted: all sheets in (else
    `consensus_sheets_missing` names who owes one), a disagreement beyond the thresholds, a value in range."""
    app = find_application(session, settings, number)
    st = standing(session, settings, check_phase(phase))
    if app.id in st.pending:
        experts = assignments(session, settings, phase).get(app.id, [])
        done = {s.expert for s in expert_sheets(session, settings, phase) if s.app_id == app.id}
        missing = [e for e in experts if e not in done]
        raise InvalidInput("consensus_sheets_missing", number=app.number, done=len(experts) - len(missing),
                           total=len(experts), missing=_names(session, missing))
    if app.id not in {d.app_id for d in st.disagreements}:
        raise InvalidInput("no_disagreement", number=app.number)
    try:
        exact = Fraction(Decimal(value.strip()))
    except (InvalidOperation, ValueError):
        raise InvalidInput("bad_consensus_value", value=value, max=settings.award.rubric.total) from None
    if not 0 <= exact <= settings.award.rubric.total:
        raise InvalidInput("bad_consensus_value", value=value, max=settings.award.rubric.total)
    return ConsensusCheck(app, exact, st.aggregates.get(app.id), _consensus(session, settings, phase).get(app.id))


@access.guarded("results.consensus")
def record_consensus(session: Session, settings: Settings, *, actor: str, now: dt.datetime, phase: str,
                     number: str, value: str, note: str = "", reason: str = "") -> Consensus:
    """The leader records the group's consensus score for a disputed application; audited. Replacing a
    recorded consensus needs a `reason` (audited with the previous value): nothing is overwritten silently."""
    checked = check_consensus(session, settings, phase, number, value)
    app, row = checked.app, checked.previous
    previous = None
    if row is None:
        row = Consensus(edition=app.edition, phase=phase, application_id=app.id, value="0", recorded_by=actor,
                        recorded_at=now)
        session.add(row)
    else:
        if not reason.strip():
            raise InvalidInput("consensus_reason_required", number=app.number, value=fmt(Fraction(row.value)))
        previous = {"value": row.value, "note": row.note, "by": row.recorded_by, "at": row.recorded_at.isoformat()}
    row.value, row.note, row.recorded_by, row.recorded_at = str(Decimal(value.strip())), note[:1000], actor, now
    audit.record(session, actor=actor, action="score.consensus", subject=f"application:{app.id}", now=now,
                 phase=phase, value=row.value, aggregate=fmt(checked.aggregate), note=row.note,
                 previous=previous, reason=reason.strip()[:500])
    return row


def _require_final(st: Standing, session: Session) -> None:
    if not st.final:
        numbers = {a.id: a.number for a in session.scalars(select(Application).where(
            Application.id.in_(st.pending + st.unresolved or [0])))}
        raise InvalidInput("ranking_not_final", phase=st.phase, pending=[numbers[a] for a in st.pending],
                           unresolved=[numbers[a] for a in st.unresolved])


def candidates(session: Session, settings: Settings) -> ranking.CandidateSelection:
    """Site-visit candidates by material score: gate first, then at most candidates_max (ties reported)."""
    r = settings.award.rules
    return ranking.select_candidates(standing(session, settings, "material").scores, r.material_gate, r.candidates_max,
                                     committee.admitted_ids(session, settings))


def composite_ranking(session: Session, settings: Settings) -> ranking.CompositeRanking:
    """Composite (material × weight + site × weight) of the site-visit candidates."""
    r = settings.award.rules
    site_ids = {row.application_id for row in shortlist(session, settings, SITE)}
    material = {a: v for a, v in standing(session, settings, "material").scores.items() if a in site_ids}
    site = standing(session, settings, "site").scores
    return ranking.rank_composite(material, site, r.weight_material_percent, r.weight_site_percent)


def shortlist(session: Session, settings: Settings, kind: str) -> list[Shortlist]:
    """The recorded shortlist of a kind ('site' candidates or 'vote' finalists), in order."""
    return list(session.scalars(select(Shortlist).where(Shortlist.edition == settings.award.edition_key,
                                                        Shortlist.kind == kind).order_by(Shortlist.position)))


def _decide(session: Session, settings: Settings, *, kind: str, outcome: ranking.Cut | ranking.CandidateSelection,
            scores: dict[int, Fraction], tie_break: list[str] | None, actor: str, now: dt.datetime,
            tie_reason: str = "") -> list[Application]:
    if shortlist(session, settings, kind):
        raise AlreadyDone("shortlist_exists", kind=kind)
    apps = {a.id: a for a in session.scalars(select(Application).where(Application.id.in_(list(scores) or [0])))}
    chosen = list(outcome.selected)
    tie = outcome.tie_at_cut
    if tie is not None:
        tied_numbers = [apps[a].number for a in tie.tied]
        if not tie_break:
            raise InvalidInput("tie_at_cut", kind=kind, score=fmt(tie.score), tied=tied_numbers, places=tie.places,
                               selected=[apps[a].number for a in chosen],
                               decider=settings.award.rules.tie_at_cut_decided_by)
        picked = [find_application(session, settings, n).id for n in tie_break]
        if len(set(picked)) != tie.places or not set(picked) <= set(tie.tied):
            raise InvalidInput("bad_tie_break", tied=tied_numbers, places=tie.places)
        chosen += sorted(picked, key=lambda a: tie.tied.index(a))
    for position, app_id in enumerate(chosen, start=1):
        session.add(Shortlist(edition=settings.award.edition_key, kind=kind, application_id=app_id,
                              position=position, score=fmt(scores[app_id], 4), decided_by=actor, decided_at=now))
    audit.record(session, actor=actor, action=f"shortlist.{kind}", subject=f"shortlist:{kind}", now=now,
                 selected=[apps[a].number for a in chosen], tie_break=tie_break or [], tie_reason=tie_reason,
                 tied=[apps[a].number for a in tie.tied] if tie is not None else [],
                 scores={apps[a].number: fmt(s, 4) for a, s in scores.items()})
    _tell_applicants(session, settings, kind, [apps[a] for a in sorted(scores)], set(chosen),
                     set(getattr(outcome, "excluded_below_gate", ())), now=now)
    return [apps[a] for a in chosen]


def _tell_applicants(session: Session, settings: Settings, kind: str, pool: list[Application], chosen: set[int],
                     below_gate: set[int], *, now: dt.datetime) -> None:
    """Each applicant hears whether it goes on at this gate (site visit / committee) and why not — the rule,
    never a score (its own or others')."""
    r = settings.award.rules
    for app in pool:
        reason = "" if app.id in chosen else "below_gate" if app.id in below_gate else "beyond_cut"
        notices.notify(session, app.applicant, f"scoring.gate_{kind}", now=now, number=app.number,
                       enterprise=app.enterprise_name, selected=app.id in chosen, reason=reason,
                       gate=r.material_gate, candidates_max=r.candidates_max, vote_top=r.vote_top,
                       weight_material=r.weight_material_percent, weight_site=r.weight_site_percent)


@access.guarded("results.shortlist")
def select_candidates(session: Session, settings: Settings, *, actor: str, now: dt.datetime) -> list[Application]:
    """Record the site-visit candidates once the material ranking is final; a tie at the cut is refused
    (`tie_at_cut`): the one the rules name decides it (`break_tie`)."""
    return _site(session, settings, actor=actor, now=now)


def _site(session: Session, settings: Settings, *, actor: str, now: dt.datetime, tie_break: list[str] | None = None,
          tie_reason: str = "") -> list[Application]:
    st = standing(session, settings, "material")
    _require_final(st, session)
    require_report_confirmed(session, settings, "material")  # the leader signs off the ranking first
    r = settings.award.rules
    # The gate is "原则上": the committee may admit an application below it (破格, workflows.committee).
    selection = ranking.select_candidates(st.scores, r.material_gate, r.candidates_max,
                                          committee.admitted_ids(session, settings))
    return _decide(session, settings, kind=SITE, outcome=selection, scores=st.scores, tie_break=tie_break,
                   actor=actor, now=now, tie_reason=tie_reason)


@access.guarded("results.shortlist")
def select_finalists(session: Session, settings: Settings, *, actor: str, now: dt.datetime) -> list[Application]:
    """Record the top vote_top by composite for the committee; a tie at the cut is refused (`tie_at_cut`): the
    one the rules name decides it (`break_tie`)."""
    return _finalists(session, settings, actor=actor, now=now)


def _finalists(session: Session, settings: Settings, *, actor: str, now: dt.datetime,
               tie_break: list[str] | None = None, tie_reason: str = "") -> list[Application]:
    st = standing(session, settings, "site")
    _require_final(st, session)
    require_report_confirmed(session, settings, "site")
    comp = composite_ranking(session, settings)
    if comp.missing_site:
        raise InvalidInput("ranking_not_final", phase="site", pending=[], unresolved=[])
    scores = {e.app_id: e.composite for e in comp.entries}
    return _decide(session, settings, kind=VOTE, outcome=comp.top(settings.award.rules.vote_top), scores=scores,
                   tie_break=tie_break, actor=actor, now=now, tie_reason=tie_reason)


TIE_REASON_MIN = 4


@access.guarded("results.tie_break")
def break_tie(session: Session, settings: Settings, *, actor: str, now: dt.datetime, kind: str, picks: list[str],
              reason: str) -> list[Application]:
    """The decider the rules name (`tie_at_cut_decided_by`: the expert group's leader or the committee's chair)
    decides a tie straddling a cut — which of the tied go on, with a reason — and the shortlist is recorded
    from it (audited `shortlist.<kind>` with `tie_break`, `tie_reason`, and the decider as actor)."""
    decider = settings.award.rules.tie_at_cut_decided_by
    if decider not in access.roles_of(access.role_of(session, actor)):
        raise InvalidInput("tie_break_not_yours", decider=decider)
    if kind not in (SITE, VOTE):
        raise InvalidInput("tie_break_bad_kind")
    reason = reason.strip()
    if len(reason) < TIE_REASON_MIN:
        raise InvalidInput("tie_break_reason", min=TIE_REASON_MIN)
    if not picks:
        raise InvalidInput("tie_break_no_picks")
    select = _site if kind == SITE else _finalists
    return select(session, settings, actor=actor, now=now, tie_break=picks, tie_reason=reason)


def final_top(session: Session, settings: Settings) -> list[tuple[Application, Fraction, Fraction, Fraction]]:
    """The committee's list: (application, composite, material, site), best first (recorded, else computed)."""
    comp = {e.app_id: e for e in composite_ranking(session, settings).entries}
    recorded = shortlist(session, settings, VOTE)
    if recorded:
        ids = [row.application_id for row in recorded]
    else:
        cut = composite_ranking(session, settings).top(settings.award.rules.vote_top)
        if cut.ambiguous:
            raise InvalidInput("tie_at_cut", kind=VOTE, score=fmt(cut.tie_at_cut.score), tied=[], places=0,
                               selected=[])
        ids = list(cut.selected)
    apps = {a.id: a for a in session.scalars(select(Application).where(Application.id.in_(ids or [0])))}
    return [(apps[i], comp[i].composite, comp[i].material, comp[i].site) for i in ids]


def ranking_digest(session: Session, settings: Settings, phase: str) -> str:
    """A hash of the ranking a report shows, so a confirmation names exactly what was confirmed."""
    return digest_of(standing(session, settings, phase))


def digest_of(st: Standing) -> str:
    """The ranking digest of a standing already computed (see `ranking_digest`)."""
    data = sorted((a, fmt(v, 4)) for a, v in st.scores.items())
    return hashlib.sha256(json.dumps(data).encode()).hexdigest()


@access.guarded("results.confirm_report")
def confirm_report(session: Session, settings: Settings, *, actor: str, now: dt.datetime,
                   phase: str) -> ReportConfirmation:
    """The leader confirms a phase's report once its ranking is final; audited."""
    st = standing(session, settings, check_phase(phase))
    _require_final(st, session)
    if session.scalar(select(ReportConfirmation.id).where(ReportConfirmation.edition == settings.award.edition_key,
                                                          ReportConfirmation.phase == phase)):
        raise AlreadyDone("report_already_confirmed", phase=phase)
    row = ReportConfirmation(edition=settings.award.edition_key, phase=phase, confirmed_by=actor, confirmed_at=now,
                             digest=ranking_digest(session, settings, phase))
    session.add(row)
    audit.record(session, actor=actor, action="report.confirm", subject=f"report:{phase}", now=now,
                 digest=row.digest)
    return row


def report_confirmation(session: Session, settings: Settings, phase: str) -> ReportConfirmation | None:
    """The leader's confirmation of a phase's report, if given."""
    return session.scalar(select(ReportConfirmation).where(ReportConfirmation.edition == settings.award.edition_key,
                                                           ReportConfirmation.phase == phase))


def require_report_confirmed(session: Session, settings: Settings, phase: str) -> None:
    """Raise unless the leader confirmed the phase's report (checked before the stage closes)."""
    if report_confirmation(session, settings, phase) is None:
        raise NotFound("report_not_confirmed", phase=phase)
