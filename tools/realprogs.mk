# make real: third-party programs built from Debian's source packages, natively and for
# wasm32-wasi, into build/real (tools/realprogs.sh). Not part of `make all`: tests/real calls it.
.PHONY: real
real: $(DEPS)
	tools/realprogs.sh
