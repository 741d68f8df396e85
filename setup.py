"""The package layout, which pyproject.toml cannot express on its own.

The icons, the .desktop file and the AppStream metainfo live once, at the top-level
`resources/`. A wheel carries them inside the package as `voicedesk/resources/` (this
`package_dir` mapping), where `voicedesk.ui.icons` finds them; an editable install or a source
checkout reads the top-level folder itself. `packages.find` in pyproject.toml can only list
folders that exist under `voicedesk/`, hence this file; everything else is in pyproject.toml.
"""

from setuptools import find_packages, setup

# Every folder under the mapped one is a package of its own to setuptools ("Package would be
# ignored" otherwise, on every install): so icons/ is listed and mapped too.
RESOURCES = {"voicedesk.resources": "resources", "voicedesk.resources.icons": "resources/icons"}

setup(
    packages=[*find_packages(include=["voicedesk", "voicedesk.*"]), *RESOURCES],
    package_dir=RESOURCES,
    package_data={
        "voicedesk.resources": ["*.svg", "*.desktop", "*.xml"],
        "voicedesk.resources.icons": ["*.png"],
    },
)
