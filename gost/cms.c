/* placeholder, replaced by the certificate/CMS work */
