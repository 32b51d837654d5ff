"""Files in and out: importers, exporters, presets and the transfer API.

- :mod:`crmkit.io.transfer`: ``export_records``, ``export_to_path``, ``export_all_to_dir``,
  ``check_output_path``, ``read_rows``, ``import_records`` (the calls behind ``crmkit export`` /
  ``crmkit import``).
- :mod:`crmkit.io.records`: how records become flat rows and back.
- :mod:`crmkit.io.csv_format`, :mod:`crmkit.io.json_format`: the built-in formats (plugins).
- :mod:`crmkit.io.presets`: column mappings for other tools' exports (plugin).
- :mod:`crmkit.io.base`: the spec objects plugins return.

Submodules are imported on use, so ``import crmkit`` stays light.
"""
