"""What mudawwana asks of a Label Studio project: find or create it, read its layers, list, import and export
its tasks. The client's second half: every request goes through annotate/client.py, so errors come out as
StudioError messages that say what to do.
"""

from __future__ import annotations

import json
import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Iterator, Sequence

from label_studio_sdk.label_interface import LabelInterface

from mudawwana.annotate.client import StudioError, StudioHTTPError, get_json, request, sdk_call
from mudawwana.annotate.config import (DEFAULT_LAYERS, LEMMA, NER, ROOT, UPOS, WORDS, build_config,
                                       check_layers)
from mudawwana.corpus.errors import InputError

log = logging.getLogger(__name__)

IMPORT_TIMEOUT = 900.0  # seconds for one batch: the server needs ~4-6 s per 1,000 tasks on 2 cores
EXPORT_TIMEOUT = 1800.0
EXPORT_CHUNK = 250  # task ids per export request: they go in the URL (~4 KB; proxies refuse 8 KB lines)
IMPORT_ROUTES = ("http", "sdk")  # import_tasks(via=...): plain JSON on the SDK's connection, or its typed call
# Older mudawwana versions read a project's layers from this description; this one reads its config's controls.
DESCRIPTION_PREFIX = "Corpus correction project created by mudawwana push."


class ProjectNotFoundError(StudioError):
    def __init__(self, title: str, existing: list[str]):
        self.title, self.existing = title, existing
        listed = ", ".join(repr(t) for t in existing[:20]) + (" ..." if len(existing) > 20 else "")
        super().__init__(f"no Label Studio project titled {title!r}; existing projects: {listed or 'none'}")


# --- the project ----------------------------------------------------------------------------------------------

def find_project(client, title: str):
    """The project with exactly this title, or None. Several with the same title is an error: which to write to?"""
    with sdk_call(client, "the project list"):
        matches = [p for p in client.projects.list(title=title) if p.title == title]  # the filter is a substring one
    if len(matches) > 1:
        ids = ", ".join(str(p.id) for p in matches)
        raise StudioError(f"{len(matches)} Label Studio projects are titled {title!r} (ids {ids}): rename all but one")
    return matches[0] if matches else None


def get_project(client, title: str):
    """Like find_project, but a missing project is a ProjectNotFoundError listing the titles that exist."""
    project = find_project(client, title)
    if project is None:
        with sdk_call(client, "the project list"):
            titles = sorted(p.title or "" for p in client.projects.list())
        raise ProjectNotFoundError(title, titles)
    return project


def ensure_project(client, title: str, layers: Sequence[str] | None) -> tuple[object, tuple[str, ...], bool]:
    """(project, layers, created). A reused project must have the layers asked for (None: whatever it has)."""
    if len(title.strip()) < 3:
        raise InputError(f"project title {title!r} is too short: Label Studio needs at least 3 characters")
    project = find_project(client, title)
    if project is not None:
        existing = project_layers(client, project)
        if layers is not None and tuple(check_layers(layers)) != existing:
            raise InputError(f"project {title!r} has the layers {','.join(existing)}, not {','.join(layers)}: "
                             f"push with --layers {','.join(existing)}, or to a new project")
        return project, existing, False
    layers = check_layers(layers if layers is not None else DEFAULT_LAYERS)
    with sdk_call(client, f"creating project {title!r}"):
        project = client.projects.create(title=title, label_config=build_config(layers),
                                         description=project_description(layers))
    return project, layers, True


def project_description(layers: Sequence[str]) -> str:
    return f"{DESCRIPTION_PREFIX} mudawwana-layers: {','.join(layers)}"


def set_model_version(client, project_id: int, version: str) -> None:
    """Make `version` the project's model version: the labeling stream shows only the predictions of that version
    (docs/label-studio.md, "Import with predictions")."""
    with sdk_call(client, f"the model version of project {project_id}"):
        if getattr(client.projects.get(project_id), "model_version", None) != version:
            client.projects.update(project_id, model_version=version)


# --- its layers, from its labeling config ---------------------------------------------------------------------

# The layer each control of build_config stands for (annotate/config.py). `word` (word regions without UPOS)
# stands for none, and seg has no control of its own: it is the words view accepting new selections.
_LAYER_OF_CONTROL = {UPOS: "upos", LEMMA: "lemma", ROOT: "deps", NER: "ner"}


def layers_from_config(config: str | None) -> tuple[str, ...] | None:
    """The layers of a labeling config made by build_config, read from its controls; None for any other config.

    Parsed, not compared as text: a project stays usable when its config is edited in the web UI where the
    controls are untouched (a style, a header), and every earlier version's projects are read the same way.
    """
    interface = _parse_config(config)
    if interface is None:
        return None
    found = {_LAYER_OF_CONTROL[c.name] for c in interface.controls if c.name in _LAYER_OF_CONTROL}
    words = next((o for o in interface.objects if o.name == WORDS), None)
    if words is not None and words.attr.get("selectionEnabled") != "false":
        found.add("seg")
    if not found:
        return None
    layers = check_layers(found)
    # Ours only if it has exactly the controls and objects build_config gives these layers: a hand-made config
    # that happens to name a control `ner` would get tasks its controls cannot show.
    if _shape(interface) != _shape(LabelInterface(build_config(layers))):
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


def task_data(client, task_id: int) -> dict:
    with sdk_call(client, f"task {task_id}"):
        return client.tasks.get(task_id).data or {}


def import_tasks(client, project_id: int, tasks: list[dict], *, via: str = "http") -> int:
    """Import one batch (one request, one server transaction); returns the number of tasks created.

    No retries: a retried import that had reached the server would duplicate the batch. The caller lists
    the project again instead (rerun the push)."""
    what = f"an import of {len(tasks)} tasks into project {project_id}"
    if via == "sdk":
        with sdk_call(client, what):
            resp = client.projects.import_tasks(project_id, request=tasks,
                                                request_options={"timeout": IMPORT_TIMEOUT, "max_retries": 0})
        return int(resp.task_count or 0)
    if via != "http":
        raise ValueError(f"via must be one of {IMPORT_ROUTES}, not {via!r}")
    body = json.dumps(tasks, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    log.debug("importing %d tasks (%d bytes) into project %d", len(tasks), len(body), project_id)
    resp = request(client, "POST", f"api/projects/{project_id}/import", what=what, body=body,
                   timeout=IMPORT_TIMEOUT, retries=0)
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
