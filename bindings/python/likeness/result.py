"""CheckResult and Match: a check's answer as plain Python values, read out of lk_check_result."""
import json

from . import _lib


def _signal_names(bits):
    names = []
    if bits & _lib.LK_SIGNAL_PDQ:
        names.append("pdq")
    if bits & _lib.LK_SIGNAL_EMBEDDING:
        names.append("embedding")
    if bits & _lib.LK_SIGNAL_REGION:
        names.append("region")
    return names


def _name(table, value, fallback):
    name = table.get(value)
    return name if name is not None else fallback(value).decode()


def _place(r):
    return {"x": r.x, "y": r.y, "width": r.width, "height": r.height}


def _text(b):
    return b.decode("utf-8", "replace")


class Match:
    """One reference the image came close to (lk_match)."""

    __slots__ = ("character", "character_name", "reference_id", "distance", "transform", "similarity",
                 "verdict", "reason", "signals", "allow", "region", "region_similarity", "region_lead",
                 "block_threshold", "review_threshold")

    def __init__(self, m):
        self.character = _text(m.character)
        self.character_name = _text(m.character_name)
        self.reference_id = m.reference_id
        # None where the signal did not measure this reference (C's -1 / -2 sentinels).
        self.distance = m.distance if m.distance >= 0 else None
        self.transform = _name(_lib.TRANSFORMS, m.transform, _lib.lib.lk_dihedral_name)
        self.similarity = m.similarity if m.similarity > -2 else None
        self.verdict = _name(_lib.VERDICTS, m.verdict, _lib.lib.lk_verdict_name)
        self.reason = _name(_lib.REASONS, m.reason, _lib.lib.lk_reason_name)
        self.signals = _signal_names(m.signals)
        self.allow = bool(m.allow)
        region = m.signals & _lib.LK_SIGNAL_REGION
        self.region = _place(m.region) if region else None
        self.region_similarity = m.region_similarity if region else None
        self.region_lead = m.region_lead if region else None
        self.block_threshold = m.block_threshold
        self.review_threshold = m.review_threshold

    def to_dict(self):
        """The match as `likeness check --json` writes it (same keys, same absences)."""
        d = {"character": self.character, "name": self.character_name, "reference": self.reference_id,
             "verdict": self.verdict, "reason": self.reason, "block_threshold": self.block_threshold,
             "review_threshold": self.review_threshold, "allow_listed": self.allow,
             "signals": list(self.signals)}
        if self.region is not None:
            d["region"] = dict(self.region, similarity=self.region_similarity, lead=self.region_lead)
        if self.distance is not None:
            d["distance"] = self.distance
            d["transform"] = self.transform
        if self.similarity is not None:
            d["similarity"] = self.similarity
        return d

    def __repr__(self):
        return (f"Match({self.character!r}, verdict={self.verdict!r}, reason={self.reason!r}, "
                f"distance={self.distance}, similarity={self.similarity})")


class CharacterDecision:
    """Which registered character the image shows, from all of each character's references
    against the negative bank (lk_character_decision)."""

    __slots__ = ("character", "character_name", "franchise", "verdict", "score", "threshold", "margin",
                 "runner_up", "uncertain", "false_positive_rate", "calibration_negatives", "nearest",
                 "bank_pictures")

    def __init__(self, c):
        self.character = _text(c.character)
        self.character_name = _text(c.character_name)
        self.franchise = _text(c.franchise)
        self.verdict = _name(_lib.VERDICTS, c.verdict, _lib.lib.lk_verdict_name)
        self.score = c.score
        self.threshold = c.threshold
        self.margin = c.margin
        self.runner_up = _text(c.runner_up) or None
        self.uncertain = bool(c.character_uncertain)
        # None until a calibration gave the registry unrelated pictures to count against.
        self.false_positive_rate = c.false_positive_rate if c.false_positive_rate >= 0 else None
        self.calibration_negatives = c.calibration_negatives if c.false_positive_rate >= 0 else None
        self.nearest = [(c.nearest[i], c.nearest_similarity[i]) for i in range(max(0, min(c.n_nearest, 3)))]
        self.bank_pictures = c.bank_pictures

    def to_dict(self):
        """As the "character" object of `likeness check --json`."""
        d = {"character": self.character, "name": self.character_name, "franchise": self.franchise,
             "verdict": self.verdict, "score": self.score, "threshold": self.threshold, "margin": self.margin,
             "uncertain": self.uncertain,
             "nearest": [{"reference": r, "similarity": s} for r, s in self.nearest],
             "bank_pictures": self.bank_pictures}
        if self.runner_up is not None:
            d["runner_up"] = self.runner_up
        if self.false_positive_rate is not None:
            d["false_positive_rate"] = self.false_positive_rate
            d["calibration_negatives"] = self.calibration_negatives
        return d

    def __repr__(self):
        return (f"CharacterDecision({self.character!r}, franchise={self.franchise!r}, verdict={self.verdict!r}, "
                f"score={self.score:.3f}, threshold={self.threshold:.3f})")


class CheckResult:
    """The verdict on one image (lk_check_result)."""

    __slots__ = ("verdict", "blocked", "flagged", "reason", "reason_code", "quality", "hash",
                 "registry_version", "signals", "matches", "regions", "source", "timings_ms", "score",
                 "character")

    def __init__(self, r):
        self.verdict = _name(_lib.VERDICTS, r.verdict, _lib.lib.lk_verdict_name)
        self.blocked = self.verdict == "block"
        self.flagged = self.verdict != "allow"
        self.reason = _text(r.reason)
        self.reason_code = _name(_lib.REASONS, r.reason_code, _lib.lib.lk_reason_name)
        self.quality = r.quality
        # The bytes are in the reference hex text's order, so hex() is lk_pdq_to_hex's text.
        self.hash = bytes(r.hash.bytes).hex()
        self.registry_version = r.registry_version
        self.signals = _signal_names(r.signals)
        self.matches = [Match(r.matches[i]) for i in range(max(0, min(r.n_matches, _lib.LK_MAX_MATCHES)))]
        self.regions = [_place(r.regions[i]) for i in range(max(0, min(r.n_regions, _lib.LK_MAX_REGIONS)))]
        self.source = {"width": r.source.width, "height": r.source.height, "format": _text(r.source.format)}
        self.timings_ms = {"decode": r.decode_ms, "hash": r.hash_ms, "embed": r.embed_ms,
                           "search": r.search_ms, "total": r.total_ms}
        # None when no character was scored (no embedding, or no embedded reference).
        self.character = CharacterDecision(r.character) if r.character.character[0:1] != b"" else None
        score = 0.0
        for m in self.matches:
            if m.similarity is not None:
                score = max(score, m.similarity)
            if m.distance is not None:
                score = max(score, 1.0 - m.distance / 256.0)
        self.score = min(1.0, score)

    def to_dict(self):
        """JSON-ready: the keys of `likeness check --json` (without "path"), plus blocked,
        flagged and score."""
        d = {"verdict": self.verdict, "reason_code": self.reason_code, "reason": self.reason,
             "signals": list(self.signals), "quality": self.quality, "pdq": self.hash,
             "matches": [m.to_dict() for m in self.matches], "registry_version": self.registry_version,
             "source": dict(self.source), "timings_ms": dict(self.timings_ms),
             "blocked": self.blocked, "flagged": self.flagged, "score": self.score}
        if self.character is not None:
            d["character"] = self.character.to_dict()
        if self.regions:
            d["regions"] = [dict(g) for g in self.regions]
        return d

    def to_json(self, **kwargs):
        return json.dumps(self.to_dict(), **kwargs)

    def __repr__(self):
        top = self.matches[0].character if self.matches else None
        return f"CheckResult({self.verdict!r}, reason_code={self.reason_code!r}, match={top!r}, score={self.score:.3f})"
