/* replay_main.c: runs a fuzz target over every file of a corpus folder,
 * so that the ordinary test run replays inputs that once crashed. A
 * crash or sanitizer report fails the test. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int main(int argc, char **argv) {
  int files = 0;
  if (argc != 2) {
    fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
    return 2;
  }
  DIR *d = opendir(argv[1]);
  if (d == NULL) {
    perror(argv[1]);
    return 1;
  }
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    char path[4096];
    if (e->d_name[0] == '.')
      continue;
    snprintf(path, sizeof path, "%s/%s", argv[1], e->d_name);
    FILE *f = fopen(path, "rb");
    if (f == NULL)
      continue;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    uint8_t *buf = malloc(n > 0 ? (size_t)n : 1);
    if (buf && fread(buf, 1, (size_t)n, f) == (size_t)n) {
      LLVMFuzzerTestOneInput(buf, (size_t)n);
      files++;
    }
    free(buf);
    fclose(f);
  }
  closedir(d);
  printf("%s: replayed %d inputs\n", argv[1], files);
  return files > 0 ? 0 : 1;
}
