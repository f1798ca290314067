# Conveniences over dev.sh, which does the real work (and needs no make).
.PHONY: run test setup
run:
	bash dev.sh run
test:
	bash dev.sh test
setup:
	bash dev.sh setup
