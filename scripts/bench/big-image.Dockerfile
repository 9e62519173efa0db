# The benchmark's "big realistic image": a Debian bookworm minbase (imported from debootstrap,
# see scripts/debian-base.sh) with a developer toolchain installed over several RUN steps,
# the apt caches deleted in a later layer, a `chown -R` over large trees (every file shadowed),
# packages purged again and docs removed — the shape that makes VFS storage expensive.
ARG BASE=layerflat-base:bookworm
FROM ${BASE}
ENV DEBIAN_FRONTEND=noninteractive LANG=C.UTF-8
# 2: interpreters (apt lists and the downloaded .debs stay in the layer, as in careless Dockerfiles)
RUN apt-get update && apt-get install -y --no-install-recommends python3 python3-venv perl ca-certificates curl xz-utils
# 3: compilers
RUN apt-get install -y --no-install-recommends gcc g++ make libc6-dev binutils
# 4: Boost headers (~15k small files)
RUN apt-get install -y --no-install-recommends libboost-dev
# 5: scientific Python
RUN apt-get install -y --no-install-recommends python3-numpy python3-scipy python3-matplotlib python3-pandas
# 6: a JDK
RUN apt-get install -y --no-install-recommends openjdk-17-jdk-headless
# 7: Go toolchain (many files)
RUN apt-get install -y --no-install-recommends golang-1.19-go
# 8: TeX (doc-heavy)
RUN apt-get install -y --no-install-recommends texlive-latex-recommended texlive-fonts-recommended texlive-latex-base-doc
# 9: the caches go
RUN apt-get clean && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/log/apt /var/log/dpkg.log
# 10: an app user owns the toolchain trees: every file below is written again (shadowed)
RUN useradd --create-home --uid 1000 app && chown -R app:app /usr/include/boost /usr/lib/go-1.19 /usr/lib/python3/dist-packages
# 11: the Go toolchain was only needed for the build
RUN rm -rf /usr/lib/go-1.19/test /usr/lib/go-1.19/src/cmd && dpkg --purge --force-depends golang-1.19-go golang-1.19-src 2>/dev/null || true
# 12: slim the docs
RUN rm -rf /usr/share/man /usr/share/info /usr/share/doc/*/changelog*
# 13: the application (a config edit and a small tree)
RUN mkdir -p /app && cp -a /usr/share/perl5 /app/lib && sed -i 's/^#force_color_prompt=yes/force_color_prompt=yes/' /etc/skel/.bashrc && echo 'app ready' > /app/READY
WORKDIR /app
USER app
CMD ["python3", "-c", "print('hello from the bench image')"]
