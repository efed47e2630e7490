"""Drawing an attempt's answer sheet (答题卡) from a seed: the paper's questions (fixed, or drawn by topic and count),
their order and their options' order. The same seed and the same bank give the same sheet; the sheet is stored on the
attempt, so it reads the same whatever later happens to the bank."""

from __future__ import annotations

import random

from dangjian.exams.models import CHOICE_KINDS, Paper, PaperMode, Question


class NotEnoughQuestions(ValueError):
    """The bank holds fewer active questions of a topic than a draw rule asks for."""


def pool_of(paper: Paper) -> list[Question]:
    """The questions a paper may hold, in a stable order: its fixed list, or the bank's active questions."""
    if paper.mode == PaperMode.FIXED:
        return list(paper.questions.filter(active=True).order_by("pk"))
    return list(Question.objects.dangerously_all().filter(bank_id=paper.bank_id, active=True).order_by("pk"))


def check_rules(rules, pool: list[Question]) -> list[str]:
    """What is wrong with random-draw rules against `pool`: each rule's topic must hold enough questions that earlier
    rules have not taken."""
    problems: list[str] = []
    taken: set[int] = set()
    for rule in rules:
        tag, count = rule.get("tag", ""), int(rule.get("count", 0))
        found = [q.pk for q in pool if q.pk not in taken and (not tag or tag in q.tags)]
        if len(found) < count:
            what = f"知识点“{tag}”" if tag else "题库"
            problems.append(f"{what}只有{len(found)}道可用试题，不足{count}道。")
        taken.update(found[:count])
    return problems


def draw(paper: Paper, seed: int, pool: list[Question] | None = None) -> list[dict]:
    """The answer sheet of an attempt with `seed`: one entry per question as shown (text, options in their shown
    order), with the right answer in the shown order."""
    rng = random.Random(seed)
    pool = pool if pool is not None else pool_of(paper)
    if paper.mode == PaperMode.FIXED:
        chosen = list(pool)
        if not chosen:
            raise NotEnoughQuestions("试卷中没有可用的试题。")
    else:
        problems = check_rules(paper.draw_rules, pool)
        if problems:
            raise NotEnoughQuestions(problems[0])
        chosen, taken = [], set()
        for rule in paper.draw_rules:
            tag = rule.get("tag", "")
            candidates = [q for q in pool if q.pk not in taken and (not tag or tag in q.tags)]
            picked = rng.sample(candidates, int(rule["count"]))
            taken.update(q.pk for q in picked)
            chosen.extend(picked)
    if paper.shuffle_questions:
        rng.shuffle(chosen)
    sheet = []
    for question in chosen:
        entry: dict = {
            "id": question.pk,
            "kind": question.kind,
            "text": question.text,
            "explanation": question.explanation,
        }
        if question.kind in CHOICE_KINDS:
            order = list(range(len(question.options)))
            if paper.shuffle_options:
                rng.shuffle(order)
            entry["options"] = [question.options[i] for i in order]
            entry["correct"] = sorted(order.index(i) for i in question.answer)
        else:
            entry["options"] = []
            entry["correct"] = list(question.answer)
        sheet.append(entry)
    return sheet
