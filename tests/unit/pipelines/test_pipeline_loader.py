"""Loading pipelines: the shipped five, user files, swapped profiles, and errors naming field and file."""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from ipa_energy.errors import ConfigError, UnknownNameError
from ipa_energy.pipelines import data_dir, load_pipeline, pipeline_names
from ipa_energy.profiles import load_profile, profile_to_csv

#: IPA's five pipelines (reference profiles); `digits`, `segment` and `video-tv` (real models, measured
#: profiles) ship beside them
SHIPPED = ("audio-qa", "audio-sent", "nlp", "sum-qa", "video")
ALL_SHIPPED = ("audio-qa", "audio-sent", "digits", "nlp", "segment", "sum-qa", "video", "video-tv")
BATCHES = (1, 2, 4, 8, 16, 32, 64)


def test_names() -> None:
    assert pipeline_names() == ALL_SHIPPED


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_pipeline_is_complete(name: str) -> None:
    p = load_pipeline(name)
    assert p.name == name and p.sla_s > 0 and p.drop_limit_s > 0
    for s in p.stages:
        assert s.variants, s.name
        for v in s.variants:
            rows = p.profile.rows_for(s.name, v.name, v.cores)
            assert tuple(r.batch for r in rows) == BATCHES
            lat = [r.latency_s for r in rows]
            # more work per batch never takes less time, and throughput b / l(b) never drops
            assert lat == sorted(lat)
            thr = [r.batch / r.latency_s for r in rows]
            assert thr == sorted(thr)
            assert all(r.energy_j > 0 and r.source for r in rows)
    for key in ("fa2_low", "fa2_high", "rim_high_replicas", "rim_low_replicas"):
        assert set(getattr(p.presets, key)) == set(p.stage_names)


def test_video_matches_the_paper() -> None:
    p = load_pipeline("video")
    assert p.sla_s == 6.89 and p.drop_limit_s == 10 and p.max_batch == 8
    assert p.stage_names == ("crop", "classification")
    assert p.stage("crop").variant_names == ("yolov5n", "yolov5s", "yolov5m", "yolov5l", "yolov5x")
    assert dict(p.presets.fa2_high) == {"crop": "yolov5s", "classification": "resnet101"}
    assert dict(p.presets.rim_high_replicas) == {"crop": 3, "classification": 3}
    w = p.presets.weights
    assert (w.accuracy, w.cost, w.batch, w.energy) == (2.0, 1.0, 1e-6, 0.0)


def _copy_video(tmp_path: Path) -> tuple[Path, dict[str, Any]]:
    src = data_dir()
    shutil.copy(src / "video.profile.csv", tmp_path / "video.profile.csv")
    doc = yaml.safe_load((src / "video.yaml").read_text())
    return tmp_path / "mine.yaml", doc


def _write(path: Path, doc: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def test_user_file_by_path(tmp_path: Path) -> None:
    path, doc = _copy_video(tmp_path)
    doc["name"] = "my-video"
    doc["stages"][0]["variants"] = doc["stages"][0]["variants"][:2]  # keep yolov5n, yolov5s
    p = load_pipeline(_write(path, doc))
    assert p.name == "my-video" and p.path == str(path)
    assert p.stage("crop").variant_names == ("yolov5n", "yolov5s")


def _mutate_error(tmp_path: Path, mutate: Any) -> str:
    path, doc = _copy_video(tmp_path)
    mutate(doc)
    with pytest.raises(ConfigError) as e:
        load_pipeline(_write(path, doc))
    msg = str(e.value)
    assert str(path) in msg
    return msg


def test_unknown_key(tmp_path: Path) -> None:
    msg = _mutate_error(tmp_path, lambda d: d["stages"][1]["variants"][0].update(colour="red"))
    assert "stages[1].variants[0].colour: unknown key" in msg


def test_bad_values(tmp_path: Path) -> None:
    assert "sla_s" in _mutate_error(tmp_path, lambda d: d.update(sla_s=-1))
    assert "stages[0].variants[2].cores" in _mutate_error(
        tmp_path, lambda d: d["stages"][0]["variants"][2].update(cores=0)
    )
    assert "accuracy_method" in _mutate_error(tmp_path, lambda d: d.update(accuracy_method="mean"))


def test_unknown_stage_in_presets(tmp_path: Path) -> None:
    msg = _mutate_error(tmp_path, lambda d: d["presets"]["rim_high_replicas"].update(detect=3))
    assert "presets.rim_high_replicas.detect: unknown stage 'detect'" in msg


def test_unknown_variant_in_presets(tmp_path: Path) -> None:
    msg = _mutate_error(tmp_path, lambda d: d["presets"]["fa2_high"].update(crop="yolov9"))
    assert "presets.fa2_high.crop: unknown variant 'yolov9'" in msg


def test_preset_missing_a_stage(tmp_path: Path) -> None:
    msg = _mutate_error(tmp_path, lambda d: d["presets"]["fa2_low"].pop("crop"))
    assert "presets.fa2_low: no entry for stage(s) crop" in msg


def test_variant_without_profile_rows(tmp_path: Path) -> None:
    def add(d: dict[str, Any]) -> None:
        d["stages"][0]["variants"].append(
            {"name": "yolov9", "accuracy": 0.7, "rank_score": 1.0, "cores": 1}
        )

    msg = _mutate_error(tmp_path, add)
    assert "stages[0].variants[5]" in msg and "no rows for stage 'crop' variant 'yolov9'" in msg


def test_variant_at_other_cores(tmp_path: Path) -> None:
    msg = _mutate_error(tmp_path, lambda d: d["stages"][0]["variants"][0].update(cores=4))
    assert "stages[0].variants[0]" in msg and "at cores [1]" in msg


def test_negative_latency_in_profile(tmp_path: Path) -> None:
    path, doc = _copy_video(tmp_path)
    prof = tmp_path / "video.profile.csv"
    lines = prof.read_text().splitlines()
    parts = lines[3].split(",")
    parts[3] = "-0.2"
    lines[3] = ",".join(parts)
    prof.write_text("\n".join(lines) + "\n")
    with pytest.raises(ConfigError) as e:
        load_pipeline(_write(path, doc))
    assert f"{prof}: line 4: latency_s" in str(e.value)


def test_profile_with_unknown_stage(tmp_path: Path) -> None:
    path, doc = _copy_video(tmp_path)
    prof = tmp_path / "video.profile.csv"
    prof.write_text(prof.read_text() + "detect,yolov5n,1,0.1,0.1,,,1,x\n")
    with pytest.raises(ConfigError, match="rows for stage 'detect'"):
        load_pipeline(_write(path, doc))


def test_measured_profile_replaces_reference(tmp_path: Path) -> None:
    ref = load_pipeline("video").profile
    measured = tmp_path / "measured.csv"
    # a "measured" profile: every latency 10 % higher, in the same format a profiler writes
    rows = list(csv.DictReader(io.StringIO(profile_to_csv(ref))))
    with measured.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        for r in rows:
            w.writerow({**r, "latency_s": repr(float(r["latency_s"]) * 1.1), "source": "measured:test"})
    p = load_pipeline("video", profile=measured)
    assert p.profile.source == str(measured)
    assert p.profile.latency_s("crop", "yolov5n", 1, 1) == pytest.approx(
        ref.latency_s("crop", "yolov5n", 1, 1) * 1.1
    )
    # an in-memory table works too
    assert load_pipeline("video", profile=load_profile(measured)).profile.rows == p.profile.rows


def test_unknown_name_and_missing_file(tmp_path: Path) -> None:
    valid = "valid: audio-qa, audio-sent, digits, nlp, segment, sum-qa, video, video-tv"
    with pytest.raises(UnknownNameError, match=valid):
        load_pipeline("vidoe")
    with pytest.raises(ConfigError, match="not found"):
        load_pipeline(tmp_path / "none.yaml")
