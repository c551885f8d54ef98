# Freeze the O3Storage application into the firmware as bytecode.
package("o3s", base_path="$(O3S_DIR)")
