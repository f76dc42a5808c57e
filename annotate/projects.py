"""What mudawwana asks of a Label Studio project: find or create it, read its layers, list, import and export
its tasks. The client's second half: every request goes through annotate/client.py, so errors come out as
StudioError messages that say what to do.
"""

from __future__ import annotations

import difflib
import json
import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Iterator, Sequence

from label_studio_sdk.label_interface import LabelInterface

from mudawwana.annotate.client import StudioError, StudioHTTPError, get_json, request, sdk_call
from mudawwana.annotate.config import (DEFAULT_LAYERS, LEMMA, NER, ROOT, SEG, UPOS, WORDS, XPOS, XPOS_SHOWN,
                                       build_config, check_layers, feature_of_control)
from mudawwana.corpus.errors import InputError

log = logging.getLogger(__name__)

IMPORT_TIMEOUT = 900.0  # seconds for one batch: the server needs ~4-6 s per 1,000 tasks on 2 cores
EXPORT_TIMEOUT = 1800.0
# Resends of an idempotent write answered 5xx (the SDK waits 1, 2, 4, 8, 16 s): SQLite answers 500 "database is
# locked" to a write while another client's import holds its one write lock for longer than Django's 5 s.
WRITE_RETRIES = 5
EXPORT_CHUNK = 250  # task ids per export request: they go in the URL (~4 KB; proxies refuse 8 KB lines)
IMPORT_ROUTES = ("http", "sdk")  # import_tasks(via=...): plain JSON on the SDK's connection, or its typed call
# Older mudawwana versions read a project's layers from this description; this one reads its config's controls.
DESCRIPTION_PREFIX = "Corpus correction project created by mudawwana push."


class ProjectNotFoundError(StudioError):
    def __init__(self, title: str, existing: list[str]):
        self.title, self.existing = title, existing
        # The closest titles first (a typo, a missing suffix): with many projects, the one meant is still listed.
        ranked = sorted(existing, key=lambda t: -difflib.SequenceMatcher(None, title, t).ratio())
        listed = ", ".join(repr(t) for t in ranked[:20]) + (" ..." if len(existing) > 20 else "")
        super().__init__(f"no Label Studio project titled {title!r}; existing projects: {listed or 'none'}")


# --- the project ----------------------------------------------------------------------------------------------

def titled_projects(client, title: str) -> list:
    """Every project with exactly this title, lowest id first."""
    with sdk_call(client, "the project list"):
        matches = [p for p in client.projects.list(title=title) if p.title == title]  # the filter is a substring one
    return sorted(matches, key=lambda p: p.id)


def has_annotations(project) -> bool:
    """Submitted or skipped annotations, from the counts a project listing carries."""
    return bool((getattr(project, "total_annotations_number", 0) or 0)
                + (getattr(project, "skipped_annotations_number", 0) or 0))


def find_project(client, title: str):
    """The project with exactly this title, or None.

    Several with the title: the one with the lowest id, when the others hold no annotations (duplicates that
    concurrent pushes made, which a push removes: annotate/push.py, "Concurrent pushes"); when another one holds
    annotations it is an error: which one to write to, read from?"""
    matches = titled_projects(client, title)
    if len(matches) > 1 and any(has_annotations(p) for p in matches[1:]):
        raise StudioError(ambiguous_title(title, matches))
    return matches[0] if matches else None


def ambiguous_title(title: str, matches: Sequence) -> str:
    ids = ", ".join(str(p.id) for p in matches)
    annotated = ", ".join(str(p.id) for p in matches if has_annotations(p))
    return (f"{len(matches)} Label Studio projects are titled {title!r} (ids {ids}; with annotations: {annotated}): "
            "rename all but one")


def delete_project(client, project_id: int) -> bool:
    """Deletes the project; False if it was already gone."""
    try:
        request(client, "DELETE", f"api/projects/{project_id}/", what=f"deleting project {project_id}", timeout=120,
                retries=WRITE_RETRIES)
    except StudioHTTPError as e:
        if e.status_code == 404:
            return False
        raise
    return True


def get_project(client, title: str):
    """Like find_project, but a missing project is a ProjectNotFoundError listing the titles that exist."""
    project = find_project(client, title)
    if project is None:
        with sdk_call(client, "the project list"):
            titles = sorted(p.title or "" for p in client.projects.list())
        raise ProjectNotFoundError(title, titles)
    return project


# What a pull reads of its project; the listing's other fields (about 45, several of them counts over every task)
# cost the server ~0.2 s more for a 10,000-task project, and the SDK's pager asks for a second page
# (docs/label-studio.md, "Pulling annotations").
BRIEF_PROJECT_FIELDS = ("id", "title", "label_config", "total_annotations_number", "skipped_annotations_number")


def get_project_brief(client, title: str):
    """get_project in one light request: the project titled exactly `title` (the lowest id among duplicates that
    hold no annotations, as find_project), with only BRIEF_PROJECT_FIELDS as attributes. Errors as get_project's."""
    from types import SimpleNamespace

    matches, page = [], 1
    while True:
        body = get_json(client, "api/projects/", {"title": title, "include": ",".join(BRIEF_PROJECT_FIELDS),
                                                  "page": page, "page_size": 100},
                        what=f"the projects titled {title!r}")
        results = body.get("results", []) if isinstance(body, dict) else body
        matches += [SimpleNamespace(**{f: p.get(f) for f in BRIEF_PROJECT_FIELDS}) for p in results
                    if p.get("title") == title]  # the filter is a substring one
        if not isinstance(body, dict) or not body.get("next") or not results:
            break
        page += 1
    matches.sort(key=lambda p: p.id)
    if len(matches) > 1 and any(has_annotations(p) for p in matches[1:]):
        raise StudioError(ambiguous_title(title, matches))
    return matches[0] if matches else get_project(client, title)  # none: get_project lists the titles there are


def ensure_project(client, title: str, layers: Sequence[str] | None) -> tuple[object, tuple[str, ...], bool]:
    """(project, layers, created). A reused project must have the layers asked for (None: whatever it has).

    Another push may create the same title at the same moment (nothing on the server prevents it): after
    creating, the projects with the title are listed again and the lowest id wins: created is then False, and
    ours is left for the push's reconciliation to remove (annotate/push.py, "Concurrent pushes")."""
    if len(title.strip()) < 3:
        raise InputError(f"project title {title!r} is too short: Label Studio needs at least 3 characters")
    project = find_project(client, title)
    if project is not None:
        return project, _reused_layers(client, project, layers), False
    layers = check_layers(layers if layers is not None else DEFAULT_LAYERS)
    with sdk_call(client, f"creating project {title!r}"):
        project = client.projects.create(title=title, label_config=build_config(layers),
                                         description=project_description(layers))
    winner = find_project(client, title)
    if winner is None or winner.id == project.id:
        return project, layers, True
    # Ours is left to the push's reconciliation, which moves whatever another push put in it meanwhile.
    log.info("project %r: %d was created at the same time as ours, %d; using %d", title, winner.id, project.id,
             winner.id)
    return winner, _reused_layers(client, winner, layers), False


def _reused_layers(client, project, layers: Sequence[str] | None) -> tuple[str, ...]:
    existing = project_layers(client, project)
    if layers is not None and tuple(check_layers(layers)) != existing:
        raise InputError(f"project {project.title!r} has the layers {','.join(existing)}, not {','.join(layers)}: "
                         f"push with --layers {','.join(existing)}, or to a new project")
    return existing


def project_description(layers: Sequence[str]) -> str:
    return f"{DESCRIPTION_PREFIX} mudawwana-layers: {','.join(layers)}"


def set_model_version(client, project_id: int, version: str) -> None:
    """Make `version` the project's model version: the labeling stream shows only the predictions of that version
    (docs/label-studio.md, "Import with predictions")."""
    with sdk_call(client, f"the model version of project {project_id}"):
        if getattr(client.projects.get(project_id), "model_version", None) != version:
            client.projects.update(project_id, model_version=version)


# --- its layers, from its labeling config ---------------------------------------------------------------------

# The layer each control of build_config stands for (annotate/config.py); feat_* controls stand for feats.
# `word` (word regions without UPOS) stands for none; seg is the words view accepting new selections (its
# controls came later: configs of earlier versions have none, see build_config(legacy=True)).
_LAYER_OF_CONTROL = {UPOS: "upos", LEMMA: "lemma", ROOT: "deps", NER: "ner", SEG: "seg", XPOS: "xpos",
                     XPOS_SHOWN: "feats"}


def layers_from_config(config: str | None) -> tuple[str, ...] | None:
    """The layers of a labeling config made by build_config, read from its controls; None for any other config.

    Parsed, not compared as text: a project stays usable when its config is edited in the web UI where the
    controls are untouched (a style, a header), and every earlier version's projects are read the same way.
    """
    interface = _parse_config(config)
    if interface is None:
        return None
    found = {_LAYER_OF_CONTROL[c.name] for c in interface.controls if c.name in _LAYER_OF_CONTROL}
    found |= {"feats" for c in interface.controls if feature_of_control(c.name)}
    words = next((o for o in interface.objects if o.name == WORDS), None)
    if words is not None and words.attr.get("selectionEnabled") != "false":
        found.add("seg")
    if not found:
        return None
    layers = check_layers(found)
    # Ours only if it has exactly the controls and objects build_config gives these layers: a hand-made config
    # that happens to name a control `ner` would get tasks its controls cannot show.
    shapes = [_shape(LabelInterface(build_config(layers)))]
    if not {"feats", "xpos"} & set(layers):
        shapes.append(_shape(LabelInterface(build_config(layers, legacy=True))))  # an earlier version's project
    if _shape(interface) not in shapes:
        return None
    return layers


def _parse_config(config: str | None) -> LabelInterface | None:
    if not config:
        return None
    try:
        return LabelInterface(config)
    except Exception:  # noqa: BLE001 - the SDK raises its own XML error classes (and others) on a bad config
        return None


def _shape(interface: LabelInterface) -> tuple[frozenset, frozenset]:
    controls = frozenset((c.tag, c.name, tuple(c.to_name or ())) for c in interface.controls)
    objects = frozenset((o.tag, o.name, o.value) for o in interface.objects)
    return controls, objects


def project_layers(client, project) -> tuple[str, ...]:
    """The layers a project was made with, read from its labeling config."""
    config = getattr(project, "label_config", None)
    if config is None:
        with sdk_call(client, f"project {project.id}"):
            config = client.projects.get(project.id).label_config
    layers = layers_from_config(config)
    if layers is None:
        raise InputError(f"Label Studio project {project.title!r} was not made by `mudawwana push` (its labeling "
                         "config is not one of ours): push to a new project")
    return layers


# --- its tasks ------------------------------------------------------------------------------------------------

def list_tasks(client, project_id: int, *, include: str | None, query: dict | None = None,
               page_size: int = 5000, fields: str | None = None) -> list[dict]:
    """Every task of the project through the tasks API, with only the `include`d task fields."""
    out: list[dict] = []
    page = 1
    while True:
        params = {"project": project_id, "page": page, "page_size": page_size, "include": include}
        if fields:
            params["fields"] = fields
        if query:
            params["query"] = json.dumps(query)
        body = get_json(client, "api/tasks/", params, what=f"page {page} of the task list of project {project_id}")
        tasks = body.get("tasks") or []
        out.extend(tasks)
        if not tasks or len(out) >= body.get("total", 0):
            return out
        page += 1


def updated_after(timestamp: str | None) -> dict | None:
    """The Data Manager query for tasks updated after `timestamp` (the one form the server accepts:
    2026-11-28T07:14:58.085986Z, docs/label-studio.md), None for every task."""
    if timestamp is None:
        return None
    return {"filters": {"conjunction": "and", "items": [
        {"filter": "filter:tasks:updated_at", "operator": "greater", "type": "Datetime", "value": timestamp}]}}


def count_tasks(client, project_id: int) -> int:
    """The number of tasks of the project: one one-task request."""
    body = get_json(client, "api/tasks/", {"project": project_id, "page": 1, "page_size": 1, "include": "id"},
                    what=f"the number of tasks of project {project_id}")
    return int(body.get("total", 0))


def delete_tasks(client, project_id: int, task_ids: Sequence[int], chunk_size: int = 1000) -> int:
    """Deletes these tasks of the project (ids of other projects or of deleted tasks are ignored): the Data
    Manager's delete action, one request per `chunk_size` ids (one DELETE per task costs ~0.2 s each)."""
    deleted = 0
    for i in range(0, len(task_ids), chunk_size):
        chunk = list(task_ids[i:i + chunk_size])
        body = json.dumps({"selectedItems": {"all": False, "included": chunk}}).encode()
        resp = request(client, "POST", "api/dm/actions", params={"id": "delete_tasks", "project": project_id},
                       what=f"deleting {len(chunk)} tasks of project {project_id}", body=body, timeout=IMPORT_TIMEOUT,
                       retries=WRITE_RETRIES)
        deleted += int(resp.json().get("processed_items") or 0)
    return deleted


def split_annotated(client, project_id: int, task_ids: Sequence[int]) -> tuple[list[int], list[int]]:
    """(tasks without, tasks with an annotation, submitted or skipped, or a draft) of these ones of the project,
    from the annotation rows themselves (the tasks API's full tasks), not from the task's counters: those stayed
    0 for annotations made through the API on PostgreSQL (docs/label-studio.md). Ids gone meanwhile, or of
    another project, are in neither. Only `id`, `annotations` and `drafts` are read, not the whole task with its
    predictions: ~0.45 s instead of ~0.8 s per 50 tasks that each carry a few predictions."""
    free, held = [], []
    for t in tasks_by_id(client, project_id, task_ids, include="id,annotations,drafts"):
        (held if t.get("annotations") or t.get("drafts") else free).append(t["id"])
    return sorted(free), sorted(held)


def tasks_by_id(client, project_id: int, task_ids: Sequence[int], *, include: str) -> Iterator[dict]:
    """These tasks of the project (ids gone, or of another project, are left out) with only the `include` fields
    (`fields=all`, so computed ones like `predictions_model_versions` are filled), EXPORT_CHUNK ids a request."""
    for i in range(0, len(task_ids), EXPORT_CHUNK):
        chunk = list(task_ids[i:i + EXPORT_CHUNK])
        query = {"selectedItems": {"all": False, "included": chunk}}
        yield from list_tasks(client, project_id, include=include, fields="all", query=query, page_size=len(chunk))


def task_data(client, task_id: int) -> dict:
    with sdk_call(client, f"task {task_id}"):
        return client.tasks.get(task_id).data or {}


def import_tasks(client, project_id: int, tasks: list[dict], *, via: str = "http", retries: int = 0) -> int:
    """Import one batch (one request, one server transaction); returns the number of tasks created.

    No retries by default: a retried import that had reached the server would duplicate the batch. The caller
    lists the project again instead (rerun the push), or removes duplicates afterwards as push does
    (annotate/push.py, "Concurrent pushes"): it retries 5xx answers such as SQLite's "database is locked"."""
    what = f"an import of {len(tasks)} tasks into project {project_id}"
    if via == "sdk":
        with sdk_call(client, what):
            resp = client.projects.import_tasks(project_id, request=tasks,
                                                request_options={"timeout": IMPORT_TIMEOUT, "max_retries": retries})
        return int(resp.task_count or 0)
    if via != "http":
        raise ValueError(f"via must be one of {IMPORT_ROUTES}, not {via!r}")
    body = json.dumps(tasks, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    log.debug("importing %d tasks (%d bytes) into project %d", len(tasks), len(body), project_id)
    resp = request(client, "POST", f"api/projects/{project_id}/import", what=what, body=body,
                   timeout=IMPORT_TIMEOUT, retries=retries)
    return int(resp.json().get("task_count") or 0)


def exported_tasks(client, project_id: int, *, updated_since: str | None = None,
                   chunk_size: int = EXPORT_CHUNK) -> tuple[int, Iterator[list[dict]]]:
    """(number of tasks, chunks of tasks with their annotations, each in id order): every task, or those updated
    after `updated_since`.

    Tasks come from the JSON export, `chunk_size` ids at a time, the next chunk downloading while the caller
    works on this one (server export and client work overlap). Which ids: for every task, consecutive ranges
    between the project's smallest and largest task id (listing every id costs the server ~2-4 ms a task;
    ids of other projects in a range are simply not exported), unless the project's ids are sparse; for an
    incremental pull, the ids the `updated_at` filter selects. Where the export endpoint is gone (Label Studio
    Enterprise answers 404) the tasks API pages full tasks instead.
    """
    query = updated_after(updated_since)
    total, chunks = _id_chunks(client, project_id, query, chunk_size)

    def generate() -> Iterator[list[dict]]:
        if not chunks:
            return
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="pull") as pool:
            pending = pool.submit(_export, client, project_id, chunks[0])
            for k in range(len(chunks)):
                try:
                    tasks = pending.result()
                except StudioHTTPError as e:
                    if k or e.status_code not in (404, 405):
                        raise
                    yield _in_id_order(list_tasks(client, project_id, include=None, fields="all", query=query,
                                                  page_size=500))
                    return
                if k + 1 < len(chunks):
                    pending = pool.submit(_export, client, project_id, chunks[k + 1])
                yield _in_id_order(tasks)

    return total, generate()


def _in_id_order(tasks: list[dict]) -> list[dict]:
    return sorted(tasks, key=lambda t: t["id"])


def _id_chunks(client, project_id: int, query: dict | None, chunk_size: int) -> tuple[int, list[list[int]]]:
    """(number of tasks, the task ids to export, in chunks); see exported_tasks."""
    if query is None:
        total, low, high = _id_bounds(client, project_id)
        if low is None:
            return total, []
        if high - low + 1 <= 2 * total + chunk_size:
            return total, [list(range(i, min(i + chunk_size, high + 1))) for i in range(low, high + 1, chunk_size)]
    ids = sorted(t["id"] for t in list_tasks(client, project_id, include="id", query=query))
    return len(ids), [ids[i:i + chunk_size] for i in range(0, len(ids), chunk_size)]


def _id_bounds(client, project_id: int) -> tuple[int, int | None, int | None]:
    """(number of tasks, smallest id, largest id): two one-task requests, cheap however big the project."""
    out = []
    for ordering in ("tasks:id", "-tasks:id"):
        body = get_json(client, "api/tasks/", {"project": project_id, "page": 1, "page_size": 1, "include": "id",
                                               "query": json.dumps({"ordering": [ordering]})},
                        what=f"the task ids of project {project_id}")
        tasks = body.get("tasks") or []
        out.append((body.get("total", 0), tasks[0]["id"] if tasks else None))
    return out[0][0], out[0][1], out[1][1]


def _export(client, project_id: int, ids: list[int]) -> list[dict]:
    """The JSON export of these tasks (annotations included): one request."""
    log.debug("exporting tasks %d-%d of project %d", ids[0], ids[-1], project_id)
    return get_json(client, f"api/projects/{project_id}/export",
                    {"exportType": "JSON", "download_all_tasks": "true", "ids[]": ids},
                    what=f"an export of {len(ids)} tasks of project {project_id}", timeout=EXPORT_TIMEOUT)


# --- re-predicting existing tasks (annotate/retrain.py) ----------------------------------------------------------

def import_predictions(client, project_id: int, predictions: list[dict]) -> int:
    """Create predictions on existing tasks, one request for the batch: each item is
    `{"task": id, "result": [...], "model_version": "...", "score": optional}`. Returns how many were created.

    No retries: a resent batch that had reached the server would add each prediction twice. Label Studio 1.23
    leaves out, logging only, a prediction whose items name no control of the config (docs/label-studio.md):
    validate client-side first (annotate/tasks.py validate_task) and compare the count."""
    if not predictions:
        return 0
    body = json.dumps(predictions, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    resp = request(client, "POST", f"api/projects/{project_id}/import/predictions",
                   what=f"an import of {len(predictions)} predictions into project {project_id}", body=body,
                   timeout=IMPORT_TIMEOUT, retries=0)
    return int(resp.json().get("created") or 0)


def update_task_data(client, task_id: int, data: dict, *, meta: dict | None = None) -> None:
    """Replace a task's `data` (and its `meta` when given); its annotations and predictions stay as they are.

    With `?review=true` the server fetches the task with its light queryset (the fields its review stream needs)
    instead of every Data Manager field before writing: same update, ~20 % cheaper per task (docs/label-studio.md,
    "Re-predicting existing tasks"); a server that ignores the parameter just does the full fetch."""
    fields = {"data": data} if meta is None else {"data": data, "meta": meta}
    body = json.dumps(fields, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    request(client, "PATCH", f"api/tasks/{task_id}", params={"review": "true"}, what=f"an update of task {task_id}",
            body=body, timeout=120)


def unannotated_query() -> dict:
    """The Data Manager query for tasks whose counters say no annotation and no skip. A FIRST filter only: on
    PostgreSQL the counters stay 0 for annotations made through the API (docs/label-studio.md), so it may return
    annotated tasks too, never fewer unannotated ones; check the rows (split_annotated) before writing. Listing
    with it costs the server per task returned (700 tasks with `fields=all`: 3.2 s; the 100 unannotated: 1.5 s)."""
    return {"filters": {"conjunction": "and", "items": [
        {"filter": "filter:tasks:total_annotations", "operator": "equal", "type": "Number", "value": 0},
        {"filter": "filter:tasks:cancelled_annotations", "operator": "equal", "type": "Number", "value": 0}]}}
