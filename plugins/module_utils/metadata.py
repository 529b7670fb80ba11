# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Apple's legacy metadata lookup read: its request parameters and its records in the collection's spelling."""

from __future__ import annotations

DEFAULT_METADATA_URL = "https://uclient-api.itunes.apple.com/WebObjects/MZStorePlatform.woa/wa/lookup"
METADATA_BATCH = 100  # ids per legacy metadata lookup (undocumented; what MDMs use in practice)


def lookup_params(adam_ids, platform, country):
    """The query of one lookup of ``adam_ids`` (at most ``METADATA_BATCH``)."""
    return {
        "version": 2,
        "id": ",".join(adam_ids),
        "p": "mdm-lockup",
        "caller": "MDM",
        "platform": platform,
        "cc": country,
    }


def icon_url_from_artwork(artwork, size=512):
    """A concrete icon URL from the lookup's artwork template (``.../{w}x{h}bb.{f}``)."""
    if not isinstance(artwork, dict) or not artwork.get("url"):
        return None
    return artwork["url"].replace("{w}", str(size)).replace("{h}", str(size)).replace("{f}", "png")


def metadata_record(result):
    """One legacy ``contentMetadataLookup`` result as ``{name, bundle_id, version, icon_url, platforms, kind}``."""
    attributes = result.get("platformAttributes") or {}
    first_platform = next(iter(attributes.values()), {}) if attributes else {}
    offers = result.get("offers") or [{}]
    version = (offers[0].get("version") or {}).get("display")
    if version is None:
        version = (first_platform.get("latestVersionInfo") or {}).get("versionDisplay")
    return {
        "name": result.get("name"),
        "bundle_id": result.get("bundleId") or first_platform.get("bundleId"),
        "version": version,
        "icon_url": icon_url_from_artwork(result.get("artwork") or first_platform.get("artwork")),
        "platforms": list(result.get("deviceFamilies") or result.get("supportedPlatforms") or attributes.keys()),
        "kind": result.get("kind"),
    }
