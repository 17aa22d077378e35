/* Link the payload at GUEST_IMAGE_GPA with its entry first; preprocessed with cpp. */
#include "../guest_abi.h"

OUTPUT_FORMAT("elf64-x86-64")
ENTRY(guest_entry)

SECTIONS
{
	. = GUEST_IMAGE_GPA;
	.text : {
		KEEP(*(.text.entry))
		*(.text .text.*)
	}
	.rodata : { *(.rodata .rodata.*) }
	.data : { *(.data .data.*) }
	.bss : { *(.bss .bss.*) *(COMMON) }
	__guest_end = .;
	/DISCARD/ : { *(.comment) *(.note*) *(.eh_frame*) }
}

ASSERT(__guest_end <= GUEST_IMAGE_LIMIT, "guest payload does not fit below GUEST_IMAGE_LIMIT")
