// SPDX-License-Identifier: BSD-2-Clause
/* Function symbols of an ELF file, as file offsets that uprobes attach to. */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "probe/elfsym.h"

/* A uprobe is placed by file offset: map the symbol's address through its loadable segment. */
uint64_t elfsym__file_offset(Elf *elf, uint64_t vaddr)
{
	size_t n;

	if (elf_getphdrnum(elf, &n))
		return 0;
	for (size_t i = 0; i < n; i++) {
		GElf_Phdr ph;

		if (gelf_getphdr(elf, i, &ph) && ph.p_type == PT_LOAD && vaddr >= ph.p_vaddr &&
		    vaddr < ph.p_vaddr + ph.p_filesz)
			return vaddr - ph.p_vaddr + ph.p_offset;
	}
	return 0;
}

static int scan_symtab(Elf *elf, Elf_Scn *scn, const char *const *names, size_t n,
		       struct elfsym_func *out)
{
	GElf_Shdr sh;
	Elf_Data *data = elf_getdata(scn, NULL);
	int found = 0;

	if (!data || !gelf_getshdr(scn, &sh) || !sh.sh_entsize)
		return 0;
	for (size_t i = 0; i < sh.sh_size / sh.sh_entsize; i++) {
		GElf_Sym sym;
		const char *name;

		if (!gelf_getsym(data, i, &sym) || sym.st_shndx == SHN_UNDEF || !sym.st_value ||
		    GELF_ST_TYPE(sym.st_info) != STT_FUNC)
			continue;
		name = elf_strptr(elf, sh.sh_link, sym.st_name);
		for (size_t k = 0; name && k < n; k++) {
			if (!out[k].off && !strcmp(name, names[k])) {
				out[k].off = elfsym__file_offset(elf, sym.st_value);
				out[k].size = out[k].off ? sym.st_size : 0;
				found += out[k].off != 0;
			}
		}
	}
	return found;
}

static Elf *open_elf(const char *path, int *fd)
{
	Elf *elf;

	elf_version(EV_CURRENT);
	*fd = open(path, O_RDONLY | O_CLOEXEC);
	if (*fd < 0)
		return NULL;
	elf = elf_begin(*fd, ELF_C_READ_MMAP, NULL);
	if (!elf || elf_kind(elf) != ELF_K_ELF) {
		elf_end(elf);
		close(*fd);
		errno = ENOEXEC;
		return NULL;
	}
	return elf;
}

/* Dynamic symbols first, then (with_symtab) the full table: a static executable has only that. */
static int funcs_in(const char *path, const char *const *names, size_t n, struct elfsym_func *out,
		    bool with_symtab)
{
	static const Elf64_Word order[] = { SHT_DYNSYM, SHT_SYMTAB };
	int fd, found = 0;
	Elf *elf = open_elf(path, &fd);

	memset(out, 0, n * sizeof(*out));
	if (!elf)
		return -errno;
	for (size_t o = 0; o < (with_symtab ? 2u : 1u); o++) {
		Elf_Scn *scn = NULL;

		while ((scn = elf_nextscn(elf, scn))) {
			GElf_Shdr sh;

			if (gelf_getshdr(scn, &sh) && sh.sh_type == order[o])
				found += scan_symtab(elf, scn, names, n, out);
		}
	}
	elf_end(elf);
	close(fd);
	return found;
}

int elfsym__funcs(const char *path, const char *const *names, size_t n, struct elfsym_func *out)
{
	return funcs_in(path, names, n, out, true);
}

int elfsym__offsets(const char *path, const char *const *names, size_t n, uint64_t *offs)
{
	return elfsym__offsets_in(path, names, n, offs, true);
}

int elfsym__offsets_in(const char *path, const char *const *names, size_t n, uint64_t *offs,
		       bool with_symtab)
{
	struct elfsym_func *f = calloc(n ? n : 1, sizeof(*f));
	int found;

	if (!f)
		return -ENOMEM;
	found = funcs_in(path, names, n, f, with_symtab);
	for (size_t i = 0; i < n; i++)
		offs[i] = found < 0 ? 0 : f[i].off;
	free(f);
	return found;
}

/* The executable PT_LOAD segment that holds file offset off, read whole. */
int elfsym__read_text(const char *path, uint64_t off, struct elfsym_text *t)
{
	int fd, err = -ENOENT;
	Elf *elf = open_elf(path, &fd);
	size_t n;

	memset(t, 0, sizeof(*t));
	if (!elf)
		return -errno;
	for (size_t i = 0; !elf_getphdrnum(elf, &n) && i < n && err == -ENOENT; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(elf, i, &ph) || ph.p_type != PT_LOAD || !(ph.p_flags & PF_X) ||
		    off < ph.p_offset || off >= ph.p_offset + ph.p_filesz)
			continue;
		t->bytes = malloc(ph.p_filesz ? ph.p_filesz : 1);
		if (!t->bytes) {
			err = -ENOMEM;
			break;
		}
		t->off = ph.p_offset;
		t->len = ph.p_filesz;
		err = pread(fd, t->bytes, t->len, t->off) == (ssize_t)t->len ? 0 : -EIO;
	}
	elf_end(elf);
	close(fd);
	if (err)
		elfsym__free_text(t);
	return err;
}

void elfsym__free_text(struct elfsym_text *t)
{
	free(t->bytes);
	memset(t, 0, sizeof(*t));
}

bool elfsym__is_static(const char *path)
{
	char *interp = elfsym__interp(path);
	bool is_static = !interp && errno == 0;	/* errno 0: read, and has no interpreter */

	free(interp);
	return is_static;
}

char *elfsym__interp(const char *path)
{
	int fd;
	Elf *elf = open_elf(path, &fd);
	char *interp = NULL;
	size_t n, len;

	if (!elf)
		return NULL;
	if (!elf_getphdrnum(elf, &n)) {
		for (size_t i = 0; i < n && !interp; i++) {
			GElf_Phdr ph;
			const char *raw;

			if (gelf_getphdr(elf, i, &ph) && ph.p_type == PT_INTERP &&
			    (raw = elf_rawfile(elf, &len)) && ph.p_offset + ph.p_filesz <= len)
				interp = strndup(raw + ph.p_offset, ph.p_filesz);
		}
	}
	elf_end(elf);
	close(fd);
	errno = 0;
	return interp;
}

/* Go's linker writes .go.buildinfo into every Go executable; older ones at least have runtime.main. */
bool elfsym__is_go(const char *path)
{
	static const char *const name[] = { "runtime.main" };
	int fd;
	Elf *elf = open_elf(path, &fd);
	Elf_Scn *scn = NULL;
	size_t shstrndx;
	bool go = false;
	uint64_t off;

	if (!elf)
		return false;
	if (!elf_getshdrstrndx(elf, &shstrndx)) {
		while (!go && (scn = elf_nextscn(elf, scn))) {
			GElf_Shdr sh;
			const char *name;

			if (gelf_getshdr(scn, &sh) && (name = elf_strptr(elf, shstrndx, sh.sh_name)))
				go = !strcmp(name, ".go.buildinfo");
		}
	}
	elf_end(elf);
	close(fd);
	return go || elfsym__offsets(path, name, 1, &off) == 1;
}
