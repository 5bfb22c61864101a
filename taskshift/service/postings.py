"""Split a job posting (or a list of duties) into duty statements, and say why every other line was left out.

Pure text handling, no database: `split_posting(text)` returns the statements to match and the lines
dropped with their reason. The rules, in order:

1. Lines are read one by one; bullets (`-`, `*`, `•`, `1.`, `a)` ...) and markdown emphasis are stripped.
2. A heading (a short line ending in `:`, or a short line that is a known section name) opens a
   section: duties ("Responsibilities", "What you'll do" ...), requirements ("Qualifications",
   "What you bring" ...) or boilerplate ("Benefits", "About us", "Equal opportunity" ...). Lines of
   requirement and boilerplate sections are dropped; `Label: text` lines are judged by their label.
3. Every other line is cut into sentences; a sentence is dropped as boilerplate (equal-opportunity
   text, pay, benefits, schedule, how to apply, hiring slogans, company introductions), as a
   requirement (years of experience, degrees, licences, "must", "required") or as too short
   (fewer than MIN_WORDS words), else it is a duty statement.
4. A statement that starts or ends with a percentage ("40% - plan lessons", "plan lessons (40%)")
   states its time share. Statements without one share the rest equally (all equal if none states one).
5. Duplicates are dropped; at most MAX_STATEMENTS statements are kept (bounded cost), the rest are
   dropped with reason "limit".
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

#: At most this many duty statements are matched per request (the rest are reported as dropped).
MAX_STATEMENTS = 40
#: A statement has at least this many words (with a letter).
MIN_WORDS = 2
#: Longest statement kept (characters); longer sentences are cut at a word boundary.
MAX_STATEMENT_CHARS = 300

_BULLET = re.compile(r"^\s*(?:[-*•·▪◦●○‣⁃–—>]+|\(?\d{1,2}[.)]|\(?[a-zA-Z][.)](?=\s))\s*")
_MARKDOWN = re.compile(r"^#{1,6}\s*|\*\*|__|`")
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)?", re.UNICODE)
_LETTER_WORD = re.compile(r"[^\W_]*[^\W\d_][^\W_]*(?:['’][^\W_]+)?", re.UNICODE)  # a word with a letter
_SENTENCE = re.compile(r"(?<=[.!?;])\s+(?=[\"'($]?[A-Z0-9$])")
_PERCENT = re.compile(
    r"^\(?\s*(?P<a>\d{1,3}(?:\.\d+)?)\s*%\s*\)?(?:\s*(?:of (?:the |my |your |working )?time))?\s*[-–—:|)]?\s*"
    r"|\s*[-–—:|(]?\s*\(?\s*(?P<b>\d{1,3}(?:\.\d+)?)\s*%\s*(?:of (?:the |my |your |working )?time)?\s*\)?\s*[.;]?$",
    re.IGNORECASE)
_LEAD = re.compile(
    r"^(?:(?:in this role|as an? [^,]{1,40}|day to day),?\s+)?"
    r"(?:you['’]ll|you will|you|will|we need you to|the (?:\w+ ){0,2}will|responsibilities include|duties include|"
    r"tasks include|he|she|they|officers)(?:\s+will)?\s+", re.IGNORECASE)

SECTION_PATTERNS = {
    "duties": r"responsibilit|dut(?:y|ies)|what you(?:['’]ll| will) (?:do|be doing)|day[- ]to[- ]day|key tasks?|tasks|the role|"
              r"your role|in this role|role overview|job description|essential functions|the job|job summary|position summary|"
              r"about the (?:role|job|position)|accountabilit|what (?:the job|this role) involves|you will|you['’]ll|the work|"
              r"scope|job functions|primary functions|what we need",
    "requirements": r"requirement|qualification|what you bring|what we(?:['’]re| are)? look(?:ing)? for|skills|experience|education|"
                    r"about you|who you are|must[- ]haves?|nice[- ]to[- ]haves?|preferred|minimum|certification|licens|you have|"
                    r"ideal candidate|competenc|physical demands|working conditions",
    "boilerplate": r"benefit|perks?|what we offer|we offer|compensation|salary|pay\b|wages?|schedule|hours|location|about us|"
                   r"about the (?:company|team|organi[sz]ation)|who we are|our (?:company|story|mission|values|team)|why (?:join|work)|"
                   r"equal (?:employment )?opportunit|eeo|how to apply|to apply|application|diversity|inclusion|accommodation|"
                   r"disclaimer|job type|shift|travel|reports? to|department|status|start date|contact|note|legal|privacy|"
                   r"background check|drug[- ]free|e-?verify",
}
_SECTION = {kind: re.compile(rf"^(?:{p})", re.IGNORECASE) for kind, p in SECTION_PATTERNS.items()}
_SECTION_ANY = {kind: re.compile(rf"\b(?:{p})", re.IGNORECASE) for kind, p in SECTION_PATTERNS.items()}

#: Sentence-level rules, in order: the first that matches says why the sentence is not a duty.
DROP_RULES: list[tuple[str, re.Pattern]] = [(reason, re.compile(p, re.IGNORECASE)) for reason, p in [
    ("boilerplate: equal opportunity",
     r"equal (?:employment )?opportunit|\beeo\b|without regard to|discriminat|affirmative action|protected veteran|"
     r"minorities/females|reasonable accommodation|diverse (?:team|workforce)|value diversity|inclusive (?:workplace|environment)|"
     r"drug[- ]free workplace|e-?verify"),
    ("boilerplate: pay and benefits",
     r"\$\s?\d|\d\s?(?:/hr|/hour| per hour| an hour)\b|\bpay (?:rate|range|is)\b|(?:starting|base|weekly|hourly) pay|"
     r"^salary|salary (?:range|per|of)|(?:competitive|base) salary|^compensation|competitive compensation|compensation (?:package|range)|"
     r"\bbonus (?:program|eligible)|(?:quarterly|annual|sign[- ]on) bonus|uncapped commission|commission,|401\s?\(?k|\bpto\b|"
     r"paid time off|paid (?:vacation|holidays|training|orientation|licensure|ce\b)|(?:health|medical|life|dental|vision) insurance|"
     r"medical[,/] ?dental|dental(?:,| and) vision|^benefits|(?:full|great|excellent|district|state|competitive|full-time) benefits|"
     r"benefits (?:include|package|from|after|eligible)|\bperks?\b|retirement plan|\bpension\b|stipend|tuition|reimbursement|"
     r"(?:employee|staff|gear|pet care) discounts?|free (?:staff )?(?:meals?|drinks?|childcare|transit|parking|lunch)|"
     r"stock options|^equity\b|relocation(?: assistance)?[.,]?$|relocation assistance|great tips|tips (?:average|share|pool)|"
     r"loan (?:repayment|forgiveness)|uniform allowance|tool (?:allowance|program)|take[- ]home (?:truck|car|vehicle)|"
     r"company (?:car|vehicle)|expense account|union (?:scale|wages)|union position|weekly pay|cme allowance|"
     r"malpractice covered|overtime(?: available| pay)?[.,]?$|, overtime|education classes|certification bonus"),
    ("boilerplate: schedule and place",
     r"^(?:schedule|shift|hours|location|job type|status|start date)\s*[:–-]|^on[- ]call\b|full[- ]time|part[- ]time|remote[- ](?:first|friendly)|"
     r"fully remote|\(remote|^remote\b|hybrid(?: schedule| role|,|$)|\d days in (?:the )?office|, on[- ]site|shifts? (?:available|differential)|"
     r"nights and weekends|monday[- ](?:to|through|-)[- ]?friday|\d{1,2}\s?(?:am|pm)\s?[-–]|weekends? (?:and holidays )?(?:required|a must)|"
     r"no weekends|flexible (?:hours|schedules?)|every other weekend|days a week|hrs/week|hours/week|travel up to|"
     r"all shifts|seasonal \("),
    ("boilerplate: hiring and applying",
     r"apply (?:now|today|online|at|by|here|through|via)|to apply|how to apply|qualified applicants|applicants (?:must|should|will)|(?:your|a) resume|resumes? to|cover letter|"
     r"send (?:us )?your|click|job (?:id|code|number)|clips required|portfolio required|we train\b|we can help you|training provided|"
     r"no experience (?:needed|necessary)|now hiring|(?:we['’]re|we are|is|are) hiring|hiring (?:now|immediately)|\bwanted\b|"
     r"(?:we['’]re|we are|is|are) looking for|is seeking"),
    ("boilerplate: about the employer",
     r"^(?:we|we['’]re|we['’]ve|we are|our|join|at [A-Z][\w&.' -]+,|[A-Z][\w&.' -]+ (?:is|are) (?:a|an|the|proud|looking|adding|hiring|"
     r"seeking|committed))\b|(?:fast[- ]growing|award[- ]winning|family[- ]owned|leading) (?:company|firm|team|provider)|founded in|"
     r"mission is|proud to be|love of \w+ required|!\s*$|"
     r"^[A-Z][\w -]+ (?:for|at|with) (?:a|an|our|the) [\w -]*(?:company|firm|store|restaurant|hospital|clinic|agency|practice)\b"),
    ("requirement",
     r"\b\d+\+?\s*(?:-\s*\d+\s*)?(?:years?|yrs?)\b(?! old)|years? of (?:experience|age)|\bdegree\b|bachelor|master['’]?s in|\bph\.?d\b|"
     r"\bjd\b|\bpharmd\b|diploma|\bged\b|\b(?:required|preferred|a plus|a must)\s*[.!]?$|\b(?:is|are) (?:required|preferred)\b|"
     r"(?:active|valid|current) (?:[\w/'’-]+ ){0,3}(?:license|licence|certification|cdl|card|endorsement)|"
     r"must (?:be|have|pass|obtain|hold)|or (?:a )?related field|or equivalent|"
     r"^(?:bs|ba|bsc|msc|ms|mba|b\.s\.|m\.s\.|associate['’]?s)\b.{0,40}\bin\b|^(?:ability to|able to|proficien|experience (?:with|in)|knowledge of|familiar|"
     r"(?:strong|excellent|good) (?:\w+ )?skills|board certified|minimum\b|qualifications?\b|requirements?\b)"),
]]


@dataclass(frozen=True)
class Statement:
    text: str            # as written (bullet and stated percentage removed)
    query: str           # what is matched (leading "You'll", "The teacher will" ... removed)
    stated_share: float | None  # a percentage the text gives, else None
    line: int            # 1-based line number in the posting


@dataclass(frozen=True)
class Dropped:
    text: str
    reason: str
    line: int


@dataclass(frozen=True)
class Split:
    statements: list[Statement]
    dropped: list[Dropped]
    shares: list[float]          # one per statement, summing to 1
    share_sources: list[str]     # "equal" | "stated" | "rest"


def _clean(line: str) -> str:
    line = unicodedata.normalize("NFKC", line).replace("\u200b", "").replace("\t", " ")
    line = _MARKDOWN.sub("", line.strip())
    return re.sub(r"\s+", " ", line).strip()


def _words(text: str) -> list[str]:
    return _WORD.findall(text)


def _heading(line: str, bulleted: bool) -> tuple[str | None, str, bool]:
    """(section kind or None, rest of the line after `Label:`, is a heading)."""
    if bulleted:
        return None, line, False
    label, sep, rest = line.partition(":")
    if sep and len(_words(label)) <= 6 and not re.search(r"[.!?]", label):
        kind = next((k for k, rx in _SECTION.items() if rx.search(label.strip())), None)
        if kind is None:
            kind = next((k for k, rx in _SECTION_ANY.items() if rx.search(label)), "unknown")
        return kind, rest.strip(), not rest.strip()
    words = _words(line)
    if len(words) <= 6 and not re.search(r"[.!?;,]$", line):
        kind = next((k for k, rx in _SECTION.items() if rx.search(line)), None)
        if kind is None and len(words) <= 3:
            kind = next((k for k, rx in _SECTION_ANY.items() if rx.search(line)), None)
        if kind is not None:
            return kind, "", True
    return None, line, False


def _cut(text: str) -> str:
    if len(text) <= MAX_STATEMENT_CHARS:
        return text
    return text[:MAX_STATEMENT_CHARS].rsplit(" ", 1)[0]


def _stated_share(sentence: str) -> tuple[str, float | None]:
    m = _PERCENT.search(sentence)
    if m is None:
        return sentence, None
    value = float(m.group("a") or m.group("b"))
    if not 0 < value <= 100:
        return sentence, None
    rest = (sentence[:m.start()] + " " + sentence[m.end():]).strip(" -–—:|;")
    return rest, value


def drop_reason(sentence: str) -> str | None:
    """Why a sentence is not a duty statement (None: it is one)."""
    for reason, rx in DROP_RULES:
        if rx.search(sentence):
            return reason
    if len(_LETTER_WORD.findall(sentence)) < MIN_WORDS:
        return "too short"
    return None


def split_posting(text: str, max_statements: int = MAX_STATEMENTS) -> Split:
    statements: list[Statement] = []
    dropped: list[Dropped] = []
    seen: set[str] = set()
    section = None            # None | "duties" | "requirements" | "boilerplate" | "unknown"
    first_content = True
    lines = _joined_lines(text)
    for number, line in lines:
        bullet = _BULLET.match(line)
        bulleted = bool(bullet) and bullet.end() < len(line)
        if bulleted:
            line = line[bullet.end():].strip()
        kind, rest, is_heading = _heading(line, bulleted)
        if is_heading:
            section = kind
            dropped.append(Dropped(line, "heading" + ("" if kind == "unknown" else f" ({kind} section)"), number))
            first_content = False
            continue
        if kind in ("requirements", "boilerplate"):
            dropped.append(Dropped(line, "requirement" if kind == "requirements" else f"boilerplate: {_label(line)}", number))
            first_content = False
            continue
        if kind is not None:  # "Duties: ..." or an unknown label: the text after the label
            line = rest
        if section in ("requirements", "boilerplate"):
            why = drop_reason(line)
            if why is None or why == "too short":
                why = "requirement (section)" if section == "requirements" else "boilerplate (section)"
            dropped.append(Dropped(line, why, number))
            continue
        if first_content and not bulleted and len(lines) > 1 and _looks_like_title(line):
            first_content = False
            dropped.append(Dropped(line, "title or heading", number))
            continue
        first_content = False
        for sentence in _SENTENCE.split(line):
            sentence = sentence.strip()
            if not sentence:
                continue
            if sentence.endswith(":"):
                dropped.append(Dropped(sentence, "lead-in", number))
                continue
            body, share = _stated_share(sentence)
            reason = drop_reason(body)
            if reason is not None:
                dropped.append(Dropped(sentence, reason, number))
                continue
            body = _cut(body.rstrip(" .;"))
            key = " ".join(w.lower() for w in _words(body))
            if key in seen:
                dropped.append(Dropped(sentence, "duplicate", number))
                continue
            if len(statements) >= max_statements:
                dropped.append(Dropped(sentence, f"limit ({max_statements} statements per request)", number))
                continue
            seen.add(key)
            query = _LEAD.sub("", body, count=1).strip() or body
            statements.append(Statement(text=body, query=query, stated_share=share, line=number))
    shares, sources = time_shares([s.stated_share for s in statements])
    return Split(statements, dropped, shares, sources)


def _looks_like_title(line: str) -> bool:
    """A job title line: at most 10 words, and either a ' - ' / ' | ' separator ("Line Cook - Harbor Grill")
    or no closing punctuation and Title Case ("Service Plumber"); duties are written in sentence case."""
    if re.search(r"\s[-–—|]\s", line) and len(_words(line)) <= 10:
        return True
    line = re.sub(r"\s*\([^)]*\)", "", line).strip()  # "Graphic Designer (in-house team)": the title before it
    words = _words(line)
    if not words or len(words) > 10:
        return False
    if re.search(r"\s[-–—|]\s", line):
        return True
    if re.search(r"[.;:!?]$", line):
        return False
    long = [w for w in words if len(w) > 3] or words
    return sum(w[0].isupper() for w in long) * 3 >= len(long) * 2


def _joined_lines(text: str) -> list[tuple[int, str]]:
    """Cleaned non-empty lines with their 1-based numbers; a line wrapped mid-sentence (no closing
    punctuation, the next line starts in lower case and is no bullet) is joined to the next."""
    out: list[tuple[int, str]] = []
    pending = False
    for number, raw in enumerate(text.replace("\r\n", "\n").replace("\r", "\n").split("\n"), start=1):
        line = _clean(raw)
        if not line:
            pending = False
            continue
        if pending and re.match(r"[a-z(]", line) and not _BULLET.match(line):
            out[-1] = (out[-1][0], out[-1][1] + " " + line)
        else:
            out.append((number, line))
        pending = not re.search(r"[.!?:;]$", out[-1][1])
    return out


def _label(line: str) -> str:
    label = line.partition(":")[0].strip().lower()
    return label[:40]


def time_shares(stated: list[float | None]) -> tuple[list[float], list[str]]:
    """Shares summing to 1: equal unless percentages are stated; unstated statements share what is left."""
    n = len(stated)
    if n == 0:
        return [], []
    given = [s for s in stated if s is not None]
    if not given:
        return [1.0 / n] * n, ["equal"] * n
    total = sum(given)
    missing = n - len(given)
    rest = max(0.0, 100.0 - total)
    each = rest / missing if missing else 0.0
    raw = [s if s is not None else each for s in stated]
    if sum(raw) <= 0:
        return [1.0 / n] * n, ["equal"] * n
    norm = sum(raw)
    return [r / norm for r in raw], ["stated" if s is not None else "rest" for s in stated]
