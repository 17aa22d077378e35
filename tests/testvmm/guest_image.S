/* The guest payload's flat binary, linked into the VMM. GUEST_IMAGE_BIN comes from the Makefile. */
	.section .rodata
	.balign 64
	.globl guest_image_start, guest_image_end
guest_image_start:
	.incbin GUEST_IMAGE_BIN
guest_image_end:

	.section .note.GNU-stack, "", @progbits
