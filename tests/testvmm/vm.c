#include "vm.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

/* The payload's flat binary, embedded by guest_image.S. */
extern const uint8_t guest_image_start[], guest_image_end[];

#define PTE_PRESENT  (1ULL << 0)
#define PTE_WRITABLE (1ULL << 1)
#define PTE_PWT	     (1ULL << 3)
#define PTE_PCD	     (1ULL << 4)
#define PTE_LARGE    (1ULL << 7)
#define PAGE_2M	     (2ULL << 20)
#define GIB	     (1ULL << 30)

/* Where qemu puts it: three pages below the BIOS, out of the guest's way. VMX needs it. */
#define TSS_ADDR 0xFFFBD000

static int kvm_ioctl_checked(int fd, unsigned long req, unsigned long arg, const char *what)
{
	int r = ioctl(fd, req, arg);

	if (r < 0)
		fprintf(stderr, "testvmm: %s: %s\n", what, strerror(errno));
	return r;
}

static int open_kvm(void)
{
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);

	if (fd >= 0)
		return fd;
	if (errno == ENOENT)
		fprintf(stderr, "testvmm: /dev/kvm does not exist; load kvm (modprobe kvm-amd or "
				"kvm-intel)\n");
	else
		fprintf(stderr, "testvmm: cannot open /dev/kvm: %s\n", strerror(errno));
	return -1;
}

static int check_kvm(int kvm_fd)
{
	static const struct {
		int cap;
		const char *name;
	} caps[] = {
	    {KVM_CAP_IRQCHIP, "KVM_CAP_IRQCHIP"},
	    {KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY"},
	    {KVM_CAP_EXT_CPUID, "KVM_CAP_EXT_CPUID"},
	    {KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT"},
	    {KVM_CAP_MP_STATE, "KVM_CAP_MP_STATE"},
	};
	int version = ioctl(kvm_fd, KVM_GET_API_VERSION, 0);

	if (version != KVM_API_VERSION) {
		fprintf(stderr, "testvmm: KVM API version %d, expected %d\n", version,
			KVM_API_VERSION);
		return -1;
	}
	for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
		if (ioctl(kvm_fd, KVM_CHECK_EXTENSION, caps[i].cap) <= 0) {
			fprintf(stderr, "testvmm: KVM lacks %s\n", caps[i].name);
			return -1;
		}
	}
	return 0;
}

static struct kvm_cpuid2 *supported_cpuid(int kvm_fd)
{
	for (unsigned int n = 64; n <= 4096; n *= 2) {
		struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + n * sizeof(c->entries[0]));

		if (!c)
			return NULL;
		c->nent = n;
		if (ioctl(kvm_fd, KVM_GET_SUPPORTED_CPUID, c) == 0)
			return c;
		free(c);
		if (errno != E2BIG) {
			fprintf(stderr, "testvmm: KVM_GET_SUPPORTED_CPUID: %s\n", strerror(errno));
			return NULL;
		}
	}
	fprintf(stderr, "testvmm: KVM_GET_SUPPORTED_CPUID: too many entries\n");
	return NULL;
}

/* Identity map the first GiB and the LAPIC's 2 MiB page (uncached); nothing else. */
static void write_page_tables(uint8_t *mem)
{
	uint64_t *pml4 = (uint64_t *)(mem + GUEST_PML4_GPA);
	uint64_t *pdpt = (uint64_t *)(mem + GUEST_PDPT_GPA);
	uint64_t *pd_low = (uint64_t *)(mem + GUEST_PD_LOW_GPA);
	uint64_t *pd_high = (uint64_t *)(mem + GUEST_PD_HIGH_GPA);
	const uint64_t table = PTE_PRESENT | PTE_WRITABLE;

	pml4[0] = GUEST_PDPT_GPA | table;
	pdpt[0] = GUEST_PD_LOW_GPA | table;
	pdpt[GUEST_LAPIC_GPA / GIB] = GUEST_PD_HIGH_GPA | table;
	for (uint64_t i = 0; i < 512; i++)
		pd_low[i] = i * PAGE_2M | table | PTE_LARGE;
	pd_high[(GUEST_LAPIC_GPA % GIB) / PAGE_2M] =
	    GUEST_LAPIC_GPA | table | PTE_LARGE | PTE_PCD | PTE_PWT;
}

/* Null, 64-bit code, data: the selectors that interrupt delivery and IRET reload. */
static void write_gdt(uint8_t *mem)
{
	uint64_t *gdt = (uint64_t *)(mem + GUEST_GDT_GPA);

	gdt[0] = 0;
	gdt[GUEST_CODE_SELECTOR / 8] = 0x00AF9B000000FFFFULL;
	gdt[GUEST_DATA_SELECTOR / 8] = 0x00CF93000000FFFFULL;
}

static int setup_memory(struct vm *vm)
{
	size_t image_size = guest_image_end - guest_image_start;
	struct kvm_userspace_memory_region region = {
	    .slot = 0,
	    .guest_phys_addr = 0,
	    .memory_size = GUEST_MEM_SIZE,
	};

	if (image_size > GUEST_IMAGE_LIMIT - GUEST_IMAGE_GPA) {
		fprintf(stderr, "testvmm: guest image of %zu bytes is too large\n", image_size);
		return -1;
	}
	vm->mem = mmap(NULL, GUEST_MEM_SIZE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (vm->mem == MAP_FAILED) {
		vm->mem = NULL;
		fprintf(stderr, "testvmm: mmap guest memory: %s\n", strerror(errno));
		return -1;
	}
	write_gdt(vm->mem);
	write_page_tables(vm->mem);
	memcpy(vm->mem + GUEST_IMAGE_GPA, guest_image_start, image_size);

	region.userspace_addr = (uintptr_t)vm->mem;
	return kvm_ioctl_checked(vm->fd, KVM_SET_USER_MEMORY_REGION, (unsigned long)&region,
				 "KVM_SET_USER_MEMORY_REGION");
}

int vm_create(struct vm *vm)
{
	int r;

	memset(vm, 0, sizeof(*vm));
	vm->fd = -1;
	vm->kvm_fd = open_kvm();
	if (vm->kvm_fd < 0 || check_kvm(vm->kvm_fd) < 0)
		return -1;
	vm->fd = kvm_ioctl_checked(vm->kvm_fd, KVM_CREATE_VM, 0, "KVM_CREATE_VM");
	if (vm->fd < 0)
		return -1;
	if (kvm_ioctl_checked(vm->fd, KVM_SET_TSS_ADDR, TSS_ADDR, "KVM_SET_TSS_ADDR") < 0 ||
	    kvm_ioctl_checked(vm->fd, KVM_CREATE_IRQCHIP, 0, "KVM_CREATE_IRQCHIP") < 0 ||
	    setup_memory(vm) < 0)
		return -1;
	r = kvm_ioctl_checked(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0, "KVM_GET_VCPU_MMAP_SIZE");
	if (r < 0)
		return -1;
	vm->run_mmap_size = r;
	vm->cpuid = supported_cpuid(vm->kvm_fd);
	return vm->cpuid ? 0 : -1;
}

int vm_add_hint_memory(struct vm *vm, void *region)
{
	struct kvm_userspace_memory_region r = {
	    .slot = 1,
	    .guest_phys_addr = GUEST_HINTS_GPA,
	    .memory_size = GUEST_HINTS_SIZE,
	    .userspace_addr = (uintptr_t)region,
	};

	return kvm_ioctl_checked(vm->fd, KVM_SET_USER_MEMORY_REGION, (unsigned long)&r,
				 "KVM_SET_USER_MEMORY_REGION (hint region)");
}

void vm_destroy(struct vm *vm)
{
	free(vm->cpuid);
	if (vm->mem)
		munmap(vm->mem, GUEST_MEM_SIZE);
	if (vm->fd >= 0)
		close(vm->fd);
	if (vm->kvm_fd >= 0)
		close(vm->kvm_fd);
}
