"""Drive thumbd's API v3 with the official Kaltura Python client (KalturaApiClient 23.10.0).

The scenario uploads an image and a video, works with their thumbnail assets, thumbnail
params and a conversion profile, and fetches served thumbnails over HTTP. It prints one
line per step and exits with status 1 on the first failure (2 when the environment is
incomplete).

Environment:
  KALTURA_SERVICE_URL   server base URL on a loopback address, e.g. http://127.0.0.1:8080
  KALTURA_PARTNER_ID    partner to work as
  KALTURA_ADMIN_SECRET  the partner's admin secret
  KALTURA_USER_SECRET   the partner's user secret (optional: enables the USER session step)
  SCENARIO_IMAGE        path of a JPEG file
  SCENARIO_VIDEO        path of an MP4 file with a video track, a few seconds long

The client needs `pip install KalturaApiClient==23.10.0 lxml` (the wheel does not declare lxml).
"""

import os
import struct
import sys
import time
import traceback
import urllib.error
import urllib.parse
import urllib.request

# Clear the proxy variables that `requests` honours, because every address here is loopback.
for _name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
    os.environ.pop(_name, None)
os.environ["NO_PROXY"] = os.environ["no_proxy"] = "*"

from KalturaClient import *  # noqa: E402,F403
from KalturaClient.Base import IKalturaLogger  # noqa: E402
from KalturaClient.Plugins.Core import *  # noqa: E402,F403
from KalturaClient.exceptions import KalturaClientException, KalturaException  # noqa: E402

LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}
DEFAULT_THUMB_TAG = "default_thumb"
MANUAL_ASSET_TAG = "scenario-manual"
MISSING_THUMB_ASSET_ID = "0_zzzzzzzz"
MISSING_CONVERSION_PROFILE_ID = 987654321
# How long media.get may report a non-ready entry after addContent.
READY_TIMEOUT_SECS = 30


class ScenarioFailure(Exception):
    """A check that did not hold."""


def check(condition, message):
    if not condition:
        raise ScenarioFailure(message)


def enum_value(value):
    """Returns the plain value of a client enum object (the client wraps enum fields)."""
    return value.getValue() if hasattr(value, "getValue") else value


def expect_api_error(code, call, *args, **kwargs):
    """Calls the client method and checks that it raises KalturaException with `code`."""
    try:
        result = call(*args, **kwargs)
    except KalturaException as error:
        check(error.code == code, f"expected error {code}, got {error.code}: {error.message}")
        return error
    raise ScenarioFailure(f"expected error {code}, but the call returned {result!r}")


# --- Image and MP4 headers -------------------------------------------------------------


def jpeg_size(data):
    """Reads (width, height) from the first start-of-frame marker of a JPEG."""
    check(data[:2] == b"\xff\xd8", f"not a JPEG: starts with {data[:8]!r}")
    position = 2
    while position + 4 <= len(data):
        if data[position] != 0xFF:
            raise ScenarioFailure(f"JPEG marker expected at byte {position}")
        marker = data[position + 1]
        if marker == 0xFF:
            position += 1
            continue
        if marker in (0x01,) or 0xD0 <= marker <= 0xD7:
            position += 2
            continue
        (length,) = struct.unpack(">H", data[position + 2 : position + 4])
        # SOF0..SOF15, except DHT (C4), JPG (C8) and DAC (CC), carry the frame size.
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = struct.unpack(">HH", data[position + 5 : position + 9])
            return width, height
        position += 2 + length
    raise ScenarioFailure("JPEG has no start-of-frame marker")


def png_size(data):
    check(data[12:16] == b"IHDR", "PNG without an IHDR chunk")
    return struct.unpack(">II", data[16:24])


def image_size(data):
    """Reads (width, height) from a JPEG or PNG."""
    if data[:2] == b"\xff\xd8":
        return jpeg_size(data)
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return png_size(data)
    raise ScenarioFailure(f"not a JPEG or PNG: starts with {data[:16]!r}")


def mp4_boxes(data, start, end):
    """Yields (type, payload_start, payload_end) for the ISO-BMFF boxes in data[start:end]."""
    position = start
    while position + 8 <= end:
        size, kind = struct.unpack(">I4s", data[position : position + 8])
        header = 8
        if size == 1:
            (size,) = struct.unpack(">Q", data[position + 8 : position + 16])
            header = 16
        elif size == 0:
            size = end - position
        if size < header:
            raise ScenarioFailure(f"invalid MP4 box size {size} at byte {position}")
        yield kind.decode("latin-1"), position + header, position + size
        position += size


def mp4_video_info(path):
    """Reads (width, height, duration in seconds) from an MP4's moov box."""
    with open(path, "rb") as file:
        data = file.read()
    moov = next((box for box in mp4_boxes(data, 0, len(data)) if box[0] == "moov"), None)
    check(moov is not None, f"{path} has no moov box")
    duration = None
    width = height = 0
    for kind, start, end in mp4_boxes(data, moov[1], moov[2]):
        if kind == "mvhd":
            if data[start] == 1:
                timescale, units = struct.unpack(">IQ", data[start + 20 : start + 32])
            else:
                timescale, units = struct.unpack(">II", data[start + 12 : start + 20])
            duration = units / timescale
        elif kind == "trak" and width == 0:
            for inner, inner_start, _ in mp4_boxes(data, start, end):
                if inner == "tkhd":
                    # Width and height are 16.16 fixed point after the matrix.
                    offset = 88 if data[inner_start] == 1 else 76
                    width, height = struct.unpack(
                        ">II", data[inner_start + offset : inner_start + offset + 8]
                    )
                    width >>= 16
                    height >>= 16
    check(duration is not None, f"{path} has no mvhd box")
    check(width > 0 and height > 0, f"{path} has no video track")
    return width, height, duration


# --- HTTP ------------------------------------------------------------------------------


class LastCall(IKalturaLogger):
    """Keeps the URL and raw response of the client's latest API call for failure reports.

    The client's log also carries each request's JSON (session.start's secret included),
    which is dropped here.
    """

    def __init__(self):
        self.url = None
        self.response = None

    def log(self, message):
        if message.startswith("request url: "):
            self.url = message[len("request url: ") :].strip("[]")
            self.response = None
        elif message.startswith("result (xml): "):
            self.response = message[len("result (xml): ") :]

    def describe(self):
        if self.url is None:
            return "no API call was made"
        response = "none" if self.response is None else self.response[:500]
        return f"last API call {self.url}, raw response: {response}"



def fetch(url):
    """GETs a loopback URL and returns (status, content type, body)."""
    host = urllib.parse.urlsplit(url).hostname
    check(host in LOOPBACK_HOSTS, f"refusing to fetch {url}: host {host} is not a loopback address")
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=60) as response:
            return response.status, response.headers.get("Content-Type", ""), response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Content-Type", ""), error.read()


def fetch_jpeg(url):
    """GETs a loopback URL that must serve a JPEG and returns its (width, height)."""
    status, content_type, body = fetch(url)
    check(status == 200, f"GET {url} returned HTTP {status}: {body[:200]!r}")
    check(
        content_type.split(";")[0].strip() == "image/jpeg",
        f"GET {url} returned Content-Type {content_type!r}, expected image/jpeg",
    )
    return jpeg_size(body)


# --- The scenario ----------------------------------------------------------------------


class Scenario:
    def __init__(self, environment):
        self.service_url = environment["KALTURA_SERVICE_URL"].rstrip("/")
        self.partner_id = int(environment["KALTURA_PARTNER_ID"])
        self.admin_secret = environment["KALTURA_ADMIN_SECRET"]
        self.user_secret = environment.get("KALTURA_USER_SECRET")
        self.image_path = environment["SCENARIO_IMAGE"]
        self.video_path = environment["SCENARIO_VIDEO"]
        with open(self.image_path, "rb") as file:
            self.image_size = jpeg_size(file.read())
        self.video_width, self.video_height, self.video_duration = mp4_video_info(self.video_path)

        host = urllib.parse.urlsplit(self.service_url).hostname
        check(host in LOOPBACK_HOSTS, f"KALTURA_SERVICE_URL host {host} is not a loopback address")
        self.last_call = LastCall()
        self.client = KalturaClient(KalturaConfiguration(self.service_url, logger=self.last_call))

        self.image_entry = None
        self.video_entry = None
        self.image_asset = None
        self.manual_asset = None
        self.generated_asset = None
        self.crop_params = None
        self.gravity_params = None
        self.conversion_profile = None

    def steps(self):
        steps = [
            ("session.start ADMIN", self.start_admin_session),
            ("session.start wrong secret", self.start_session_with_wrong_secret),
        ]
        if self.user_secret:
            steps.append(("session.start USER", self.start_user_session))
        steps += [
            ("upload image entry", self.upload_image),
            ("upload video entry", self.upload_video),
            ("media.get image", self.get_image_entry),
            ("media.get video", self.get_video_entry),
            ("thumbAsset.addFromImage", self.add_thumb_from_image),
            ("thumbAsset.add + setContent", self.add_thumb_with_content),
            ("thumbAsset.generate", self.generate_thumb),
            ("thumbAsset.list by entry with pager", self.list_assets_of_video),
            ("thumbAsset.list by status and tags", self.list_assets_by_status_and_tags),
            ("thumbAsset.setAsDefault", self.set_default_asset),
            ("thumbAsset.delete default", self.delete_default_asset),
            ("thumbAsset.delete + get", self.delete_manual_asset),
            ("thumbParams.add + get", self.add_and_get_params),
            ("thumbParams.update", self.update_params),
            ("thumbParams.add cropType 6", self.add_gravity_params),
            ("thumbParams.list", self.list_params),
            ("thumbParams.delete", self.delete_params),
            ("conversionProfile.add + get", self.add_conversion_profile),
            ("thumbParams.getByConversionProfileId", self.params_of_conversion_profile),
            ("multirequest with back-reference", self.multirequest),
            ("thumbAsset.serve with thumbParams", self.serve_with_params),
            ("thumbAsset.serve stored file", self.serve_stored_file),
            ("thumbAsset.getUrl", self.get_url),
        ]
        return steps

    # Sessions

    def start_admin_session(self):
        ks = self.client.session.start(
            self.admin_secret, "scenario-admin", KalturaSessionType.ADMIN, self.partner_id
        )
        check(isinstance(ks, str) and len(ks) > 20, f"session.start returned {ks!r}, not a KS")
        self.client.setKs(ks)
        return f"KS of {len(ks)} characters"

    def start_session_with_wrong_secret(self):
        other = KalturaClient(KalturaConfiguration(self.service_url))
        error = expect_api_error(
            "START_SESSION_ERROR",
            other.session.start,
            "not-the-secret",
            "",
            KalturaSessionType.ADMIN,
            self.partner_id,
        )
        return f"START_SESSION_ERROR: {error.message}"

    def start_user_session(self):
        other = KalturaClient(KalturaConfiguration(self.service_url))
        ks = other.session.start(
            self.user_secret, "scenario-viewer", KalturaSessionType.USER, self.partner_id
        )
        check(isinstance(ks, str) and len(ks) > 20, f"session.start returned {ks!r}, not a KS")
        return f"KS of {len(ks)} characters"

    # Uploads

    def upload_file(self, path):
        """Uploads a file through a new upload token and returns the token id."""
        size = os.path.getsize(path)
        token = self.client.uploadToken.add(
            KalturaUploadToken(fileName=os.path.basename(path), fileSize=size)
        )
        check(bool(token.id), "uploadToken.add returned no id")
        check(
            enum_value(token.status) == KalturaUploadTokenStatus.PENDING,
            f"new upload token has status {enum_value(token.status)}, expected PENDING (0)",
        )
        with open(path, "rb") as file:
            uploaded = self.client.uploadToken.upload(token.id, file)
        check(uploaded.id == token.id, f"uploadToken.upload returned token {uploaded.id}")
        check(
            enum_value(uploaded.status) == KalturaUploadTokenStatus.FULL_UPLOAD,
            f"uploaded token has status {enum_value(uploaded.status)}, expected FULL_UPLOAD (2)",
        )
        check(
            uploaded.uploadedFileSize == size,
            f"uploadedFileSize is {uploaded.uploadedFileSize}, the file has {size} bytes",
        )
        return token.id

    def add_entry_with_content(self, path, media_type, name):
        token_id = self.upload_file(path)
        entry = self.client.media.add(KalturaMediaEntry(name=name, mediaType=media_type))
        check(bool(entry.id), "media.add returned no id")
        check(
            enum_value(entry.status) == KalturaEntryStatus.NO_CONTENT,
            f"media.add gave status {enum_value(entry.status)}, expected NO_CONTENT (7)",
        )
        entry = self.client.media.addContent(
            entry.id, KalturaUploadedFileTokenResource(token=token_id)
        )
        check(
            enum_value(entry.mediaType) == media_type,
            f"entry has mediaType {enum_value(entry.mediaType)}, expected {media_type}",
        )
        return entry

    def upload_image(self):
        self.image_entry = self.add_entry_with_content(
            self.image_path, KalturaMediaType.IMAGE, "scenario image"
        )
        return f"entry {self.image_entry.id}"

    def upload_video(self):
        self.video_entry = self.add_entry_with_content(
            self.video_path, KalturaMediaType.VIDEO, "scenario video"
        )
        return f"entry {self.video_entry.id}"

    def wait_until_ready(self, entry_id):
        """Polls media.get until the entry is READY, because conversion may run in the background."""
        deadline = time.monotonic() + READY_TIMEOUT_SECS
        while True:
            entry = self.client.media.get(entry_id)
            status = enum_value(entry.status)
            if status == KalturaEntryStatus.READY:
                return entry
            check(
                status not in (KalturaEntryStatus.ERROR_CONVERTING, KalturaEntryStatus.ERROR_IMPORTING),
                f"entry {entry_id} failed with status {status}",
            )
            check(
                time.monotonic() < deadline,
                f"entry {entry_id} still has status {status} after {READY_TIMEOUT_SECS} s",
            )
            time.sleep(0.5)

    def get_image_entry(self):
        entry = self.wait_until_ready(self.image_entry.id)
        size = (entry.width, entry.height)
        check(size == self.image_size, f"image entry is {size}, the JPEG is {self.image_size}")
        return f"READY, {size[0]}x{size[1]}"

    def get_video_entry(self):
        entry = self.wait_until_ready(self.video_entry.id)
        size = (entry.width, entry.height)
        expected = (self.video_width, self.video_height)
        check(size == expected, f"video entry is {size}, the MP4 is {expected}")
        check(
            entry.duration is not None and abs(entry.duration - self.video_duration) <= 1,
            f"video entry duration is {entry.duration} s, the MP4 lasts {self.video_duration:.2f} s",
        )
        return f"READY, {size[0]}x{size[1]}, {entry.duration} s"

    # Thumbnail assets

    def check_ready_asset(self, asset, expected_size, action):
        status = enum_value(asset.status)
        check(
            status == KalturaThumbAssetStatus.READY,
            f"{action} gave status {status}, expected READY (2). Asset description: {asset.description!r}",
        )
        size = (asset.width, asset.height)
        check(size == expected_size, f"{action} gave a {size} asset, expected {expected_size}")
        check(
            asset.entryId == self.video_entry.id,
            f"{action} gave entryId {asset.entryId}, expected {self.video_entry.id}",
        )

    def add_thumb_from_image(self):
        with open(self.image_path, "rb") as file:
            asset = self.client.thumbAsset.addFromImage(self.video_entry.id, file)
        self.check_ready_asset(asset, self.image_size, "addFromImage")
        self.image_asset = asset
        return f"asset {asset.id}"

    def add_thumb_with_content(self):
        asset = self.client.thumbAsset.add(
            self.video_entry.id, KalturaThumbAsset(tags=MANUAL_ASSET_TAG)
        )
        check(bool(asset.id), "thumbAsset.add returned no id")
        check(
            enum_value(asset.status) == KalturaThumbAssetStatus.QUEUED,
            f"thumbAsset.add gave status {enum_value(asset.status)}, expected QUEUED (0)",
        )
        token_id = self.upload_file(self.image_path)
        asset = self.client.thumbAsset.setContent(
            asset.id, KalturaUploadedFileTokenResource(token=token_id)
        )
        self.check_ready_asset(asset, self.image_size, "setContent")
        check(MANUAL_ASSET_TAG in (asset.tags or ""), f"setContent lost the tags: {asset.tags!r}")
        self.manual_asset = asset
        return f"asset {asset.id}"

    def generate_thumb(self):
        params = KalturaThumbParams(
            width=320, height=180, cropType=KalturaThumbCropType.CROP, videoOffset=2
        )
        asset = self.client.thumbAsset.generate(self.video_entry.id, params)
        self.check_ready_asset(asset, (320, 180), "generate")
        self.generated_asset = asset
        return f"asset {asset.id}, 320x180"

    def created_asset_ids(self):
        return {self.image_asset.id, self.manual_asset.id, self.generated_asset.id}

    def list_assets_of_video(self):
        thumb_filter = KalturaThumbAssetFilter(entryIdEqual=self.video_entry.id)
        everything = self.client.thumbAsset.list(thumb_filter, KalturaFilterPager(pageSize=100))
        ids = {asset.id for asset in everything.objects}
        missing = self.created_asset_ids() - ids
        check(not missing, f"list is missing assets {sorted(missing)}; it returned {sorted(ids)}")
        check(
            everything.totalCount == len(everything.objects),
            f"totalCount {everything.totalCount} but {len(everything.objects)} objects",
        )
        others = [asset.id for asset in everything.objects if asset.entryId != self.video_entry.id]
        check(not others, f"list returned assets of other entries: {others}")

        second_page = self.client.thumbAsset.list(
            thumb_filter, KalturaFilterPager(pageSize=1, pageIndex=2)
        )
        check(
            len(second_page.objects) == 1,
            f"page 2 of size 1 has {len(second_page.objects)} objects",
        )
        check(
            second_page.totalCount == everything.totalCount,
            f"paged totalCount {second_page.totalCount}, unpaged {everything.totalCount}",
        )
        return f"{everything.totalCount} assets, page 2 of size 1 is {second_page.objects[0].id}"

    def list_assets_by_status_and_tags(self):
        ready = self.client.thumbAsset.list(
            KalturaThumbAssetFilter(
                entryIdEqual=self.video_entry.id, statusEqual=KalturaThumbAssetStatus.READY
            ),
            KalturaFilterPager(pageSize=100),
        )
        statuses = {enum_value(asset.status) for asset in ready.objects}
        check(statuses <= {KalturaThumbAssetStatus.READY}, f"statusEqual=READY returned {statuses}")
        missing = self.created_asset_ids() - {asset.id for asset in ready.objects}
        check(not missing, f"statusEqual=READY is missing {sorted(missing)}")

        tagged = self.client.thumbAsset.list(
            KalturaThumbAssetFilter(entryIdEqual=self.video_entry.id, tagsLike=MANUAL_ASSET_TAG)
        )
        tagged_ids = [asset.id for asset in tagged.objects]
        check(
            tagged_ids == [self.manual_asset.id],
            f"tagsLike={MANUAL_ASSET_TAG} returned {tagged_ids}, expected [{self.manual_asset.id}]",
        )
        return f"{len(ready.objects)} READY, tagsLike found {tagged_ids[0]}"

    def set_default_asset(self):
        self.client.thumbAsset.setAsDefault(self.generated_asset.id)
        assets = self.client.thumbAsset.list(
            KalturaThumbAssetFilter(entryIdEqual=self.video_entry.id),
            KalturaFilterPager(pageSize=100),
        ).objects
        defaults = [
            asset.id for asset in assets if DEFAULT_THUMB_TAG in (asset.tags or "").split(",")
        ]
        check(
            defaults == [self.generated_asset.id],
            f"assets tagged {DEFAULT_THUMB_TAG}: {defaults}, expected [{self.generated_asset.id}]",
        )
        return f"{self.generated_asset.id} is the default"

    def delete_default_asset(self):
        error = expect_api_error(
            "THUMB_ASSET_IS_DEFAULT", self.client.thumbAsset.delete, self.generated_asset.id
        )
        return error.message

    def delete_manual_asset(self):
        self.client.thumbAsset.delete(self.manual_asset.id)
        error = expect_api_error(
            "THUMB_ASSET_ID_NOT_FOUND", self.client.thumbAsset.get, self.manual_asset.id
        )
        remaining = self.client.thumbAsset.list(
            KalturaThumbAssetFilter(entryIdEqual=self.video_entry.id),
            KalturaFilterPager(pageSize=100),
        ).objects
        check(
            self.manual_asset.id not in {asset.id for asset in remaining},
            f"deleted asset {self.manual_asset.id} is still listed",
        )
        return f"get then raised THUMB_ASSET_ID_NOT_FOUND: {error.message}"

    # Thumbnail params and conversion profiles

    def check_params(self, params, expected, action):
        for field, value in expected.items():
            actual = enum_value(getattr(params, field))
            check(actual == value, f"{action}: {field} is {actual!r}, expected {value!r}")

    def add_and_get_params(self):
        fields = {
            "name": "scenario 640x360 crop",
            "width": 640,
            "height": 360,
            "cropType": KalturaThumbCropType.CROP,
            "quality": 80,
            "videoOffset": 1.5,
            "tags": "scenario",
        }
        added = self.client.thumbParams.add(KalturaThumbParams(**fields))
        check(isinstance(added.id, int) and added.id > 0, f"thumbParams.add returned id {added.id!r}")
        self.check_params(added, fields, "thumbParams.add")
        fetched = self.client.thumbParams.get(added.id)
        self.check_params(fetched, dict(fields, id=added.id), "thumbParams.get")
        self.crop_params = added
        return f"params {added.id}"

    def update_params(self):
        updated = self.client.thumbParams.update(
            self.crop_params.id, KalturaThumbParams(quality=90, name="scenario 640x360 q90")
        )
        self.check_params(
            updated,
            {"id": self.crop_params.id, "quality": 90, "name": "scenario 640x360 q90", "width": 640},
            "thumbParams.update",
        )
        fetched = self.client.thumbParams.get(self.crop_params.id)
        self.check_params(fetched, {"quality": 90, "height": 360}, "thumbParams.get after update")
        return f"params {updated.id} quality 90"

    def add_gravity_params(self):
        # KalturaThumbCropType has no constant for 6, so a raw int is passed (sent as "6").
        added = self.client.thumbParams.add(
            KalturaThumbParams(name="scenario gravity crop", width=200, height=200, cropType=6)
        )
        self.check_params(added, {"cropType": 6, "width": 200}, "thumbParams.add cropType 6")
        self.gravity_params = added
        return f"params {added.id}"

    def list_params(self):
        listed = self.client.thumbParams.list(
            KalturaThumbParamsFilter(), KalturaFilterPager(pageSize=500)
        )
        ids = {params.id for params in listed.objects}
        for params in (self.crop_params, self.gravity_params):
            check(params.id in ids, f"thumbParams.list is missing params {params.id}")
        check(
            listed.totalCount >= len(listed.objects),
            f"totalCount {listed.totalCount} is below the {len(listed.objects)} objects returned",
        )
        by_id = self.client.thumbParams.list(
            KalturaThumbParamsFilter(idEqual=self.gravity_params.id)
        )
        by_id_ids = [params.id for params in by_id.objects]
        check(
            by_id_ids == [self.gravity_params.id],
            f"idEqual={self.gravity_params.id} returned {by_id_ids}",
        )
        return f"{listed.totalCount} params"

    def delete_params(self):
        self.client.thumbParams.delete(self.gravity_params.id)
        expect_api_error(
            "FLAVOR_PARAMS_ID_NOT_FOUND", self.client.thumbParams.get, self.gravity_params.id
        )
        return f"params {self.gravity_params.id} gone"

    def add_conversion_profile(self):
        profile = self.client.conversionProfile.add(
            KalturaConversionProfile(
                name="scenario thumbnails", flavorParamsIds=str(self.crop_params.id)
            )
        )
        check(isinstance(profile.id, int) and profile.id > 0, f"profile id is {profile.id!r}")
        listed = [part.strip() for part in (profile.flavorParamsIds or "").split(",")]
        check(
            str(self.crop_params.id) in listed,
            f"flavorParamsIds is {profile.flavorParamsIds!r}, expected it to list {self.crop_params.id}",
        )
        fetched = self.client.conversionProfile.get(profile.id)
        check(fetched.name == "scenario thumbnails", f"conversionProfile.get name {fetched.name!r}")
        self.conversion_profile = profile
        return f"profile {profile.id}, flavorParamsIds {profile.flavorParamsIds}"

    def params_of_conversion_profile(self):
        linked = self.client.thumbParams.getByConversionProfileId(self.conversion_profile.id)
        ids = [params.id for params in linked]
        check(self.crop_params.id in ids, f"profile params are {ids}, expected {self.crop_params.id}")
        expect_api_error(
            "CONVERSION_PROFILE_ID_NOT_FOUND",
            self.client.thumbParams.getByConversionProfileId,
            MISSING_CONVERSION_PROFILE_ID,
        )
        return f"params {ids}"

    def multirequest(self):
        self.client.startMultiRequest()
        added = self.client.thumbParams.add(
            KalturaThumbParams(
                name="scenario multirequest",
                width=100,
                height=100,
                cropType=KalturaThumbCropType.RESIZE_WITH_FORCE,
            )
        )
        # `added.id` is the back-reference {1:result:id}, resolved by the server.
        self.client.thumbParams.get(added.id)
        self.client.thumbAsset.get(MISSING_THUMB_ASSET_ID)
        results = self.client.doMultiRequest()

        check(len(results) == 3, f"multirequest returned {len(results)} results, expected 3")
        first, second, third = results
        check(isinstance(first, KalturaThumbParams), f"item 1 is {first!r}, not KalturaThumbParams")
        check(isinstance(second, KalturaThumbParams), f"item 2 is {second!r}, not KalturaThumbParams")
        check(
            second.id == first.id and second.name == "scenario multirequest",
            f"item 2 fetched params {second.id} ({second.name!r}), expected {first.id}",
        )
        check(isinstance(third, KalturaException), f"item 3 is {third!r}, expected an error")
        check(
            third.code == "THUMB_ASSET_ID_NOT_FOUND",
            f"item 3 failed with {third.code}, expected THUMB_ASSET_ID_NOT_FOUND",
        )
        return f"params {first.id} added and fetched, item 3 THUMB_ASSET_ID_NOT_FOUND"

    # Serving

    def serve_with_params(self):
        url = self.client.thumbAsset.serve(
            self.generated_asset.id,
            thumbParams=KalturaThumbParams(
                width=100, height=50, cropType=KalturaThumbCropType.RESIZE_WITH_FORCE
            ),
        )
        check(url.startswith(self.service_url), f"serve URL {url} is not on {self.service_url}")
        size = fetch_jpeg(url)
        check(size == (100, 50), f"serve with thumbParams gave {size[0]}x{size[1]}, expected 100x50")
        return "100x50 JPEG"

    def serve_stored_file(self):
        url = self.client.thumbAsset.serve(self.generated_asset.id)
        size = fetch_jpeg(url)
        check(size == (320, 180), f"serve gave {size[0]}x{size[1]}, expected the stored 320x180")
        return "320x180 JPEG"

    def get_url(self):
        url = self.client.thumbAsset.getUrl(self.generated_asset.id)
        check(url.startswith(("http://", "https://")), f"getUrl returned {url!r}, not a URL")
        size = fetch_jpeg(url)
        check(size == (320, 180), f"getUrl serves {size[0]}x{size[1]}, expected 320x180")
        return f"{url} serves a 320x180 JPEG"


def fail(step, reason):
    print(f"FAIL {step}: {reason}", flush=True)
    sys.exit(1)


def main():
    required = [
        "KALTURA_SERVICE_URL",
        "KALTURA_PARTNER_ID",
        "KALTURA_ADMIN_SECRET",
        "SCENARIO_IMAGE",
        "SCENARIO_VIDEO",
    ]
    missing = [name for name in required if not os.environ.get(name)]
    if missing:
        print(f"missing environment variables: {', '.join(missing)} (see this script's docstring)")
        sys.exit(2)

    try:
        scenario = Scenario(os.environ)
    except (ScenarioFailure, OSError, ValueError) as error:
        fail("setup", error)

    for name, step in scenario.steps():
        try:
            detail = step()
        except ScenarioFailure as failure:
            fail(name, failure)
        except KalturaException as error:
            fail(name, f"API error {error.code}: {error.message}")
        except KalturaClientException as error:
            fail(name, f"client error {error.code}: {error.message} ({scenario.last_call.describe()})")
        except Exception as error:  # noqa: BLE001 (any other error ends the scenario too)
            traceback.print_exc()
            fail(name, f"{type(error).__name__}: {error} ({scenario.last_call.describe()})")
        print(f"ok   {name}: {detail}", flush=True)
    print("all steps passed", flush=True)


if __name__ == "__main__":
    main()
