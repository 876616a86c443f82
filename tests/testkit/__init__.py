"""The shared test kit: config loading with every plugin's keys, fakes and worlds."""
